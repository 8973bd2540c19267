using NekkoMetal.TestKit;

namespace NekkoMetal.Pki.Tests;

[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdFixture>
{
    public const string Name = "etcd";
}
