using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdFixture>
{
    public const string Name = "etcd";
}
