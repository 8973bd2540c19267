using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;

namespace NekkoMetal.BootServer.Boot;

/// <summary>
/// The iPXE script templates of <c>ipxe/</c>, embedded at build time. <c>{{name}}</c> placeholders are filled with
/// values that must each match a strict character set (no spaces, quotes, newlines or iPXE's <c>${}</c>), so a
/// value from a client (serial, MAC) can never become a command; the kernel command line, which has spaces, is
/// the admin's setting and only has to be one line.
/// </summary>
public sealed partial class IpxeScripts
{
    private readonly FrozenDictionary<string, string> _templates;

    [GeneratedRegex(@"\{\{([a-z]+)\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^[A-Za-z0-9._~:/?&=%+,@\[\]-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeValue();

    public IpxeScripts()
    {
        var asm = typeof(IpxeScripts).Assembly;
        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("ipxe/", StringComparison.Ordinal)))
        {
            using var stream = asm.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            templates[name["ipxe/".Length..]] = reader.ReadToEnd();
        }

        _templates = templates.ToFrozenDictionary();
    }

    public IEnumerable<string> Names => _templates.Keys;

    public IReadOnlyList<string> PlaceholdersOf(string template) =>
        Placeholder().Matches(_templates[template]).Select(m => m.Groups[1].Value).Distinct().ToList();

    /// <summary>Renders <paramref name="template"/>; every placeholder must have a value and every value must be safe.</summary>
    public string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!_templates.TryGetValue(template, out var text))
        {
            throw new ArgumentException($"no iPXE template named '{template}'", nameof(template));
        }

        return Placeholder().Replace(text, m =>
        {
            var name = m.Groups[1].Value;
            if (!values.TryGetValue(name, out var value))
            {
                throw new InvalidOperationException($"iPXE template '{template}' needs a value for '{name}'");
            }

            var ok = name == "cmdline" ? value.All(c => !char.IsControl(c) && c is not ('$' or '"' or '\'' or '#')) : SafeValue().IsMatch(value);
            if (!ok)
            {
                throw new ArgumentException($"the value for '{name}' in iPXE template '{template}' has characters iPXE could interpret");
            }

            return value;
        });
    }
}
