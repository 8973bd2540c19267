namespace NekkoMetal.Pki.BuiltIn;

/// <summary>
/// The built-in CA's etcd keys, under the inventory's prefix (documented in docs/etcd-schema.md):
/// <c>pki/kek-id</c> — the id of the key-encryption key every CA key is sealed with (created once, never changed);
/// <c>pki/ca/{kind}</c> — JSON <see cref="CaRecord"/>: the root certificate and its sealed private key.
/// </summary>
internal sealed class PkiKeys(string prefix)
{
    public string Root { get; } = prefix + "pki/";

    public string KekId => Root + "kek-id";

    public string CasPrefix => Root + "ca/";

    public string Ca(CaKind kind) => CasPrefix + kind.ToWire();
}
