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

    /// <summary>
    /// Renders <paramref name="template"/>; every placeholder must have a value and every value must be safe. A line with
    /// a placeholder named in <paramref name="lists"/> is repeated once per item of that list (left out for an empty list),
    /// e.g. one <c>initrd</c> command per initrd.
    /// </summary>
    public string Render(string template, IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, IReadOnlyList<string>>? lists = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!_templates.TryGetValue(template, out var text))
        {
            throw new ArgumentException($"no iPXE template named '{template}'", nameof(template));
        }

        if (lists is null || lists.Count == 0)
        {
            return Fill(template, text, values);
        }

        var output = new StringBuilder(text.Length);
        foreach (var line in text.Split('\n'))
        {
            var listNames = Placeholder().Matches(line).Select(m => m.Groups[1].Value).Where(lists.ContainsKey).Distinct().ToList();
            if (listNames.Count > 1)
            {
                throw new InvalidOperationException($"a line of iPXE template '{template}' repeats over two lists ({string.Join(", ", listNames)})");
            }

            if (listNames.Count == 0)
            {
                output.Append(Fill(template, line, values)).Append('\n');
                continue;
            }

            var lineValues = new Dictionary<string, string>(values, StringComparer.Ordinal);
            foreach (var item in lists[listNames[0]])
            {
                lineValues[listNames[0]] = item;
                output.Append(Fill(template, line, lineValues)).Append('\n');
            }
        }

        return output.ToString(0, output.Length - 1); // the split gave one line more than there were newlines
    }

    /// <summary>
    /// Whether <paramref name="cmdline"/> can be put on an iPXE <c>kernel</c> line as it is: one line, no <c>$</c> (settings
    /// expansion), quotes or <c>#</c>, and no word that iPXE reads as a command separator (<c>;</c>, <c>&amp;&amp;</c>, <c>||</c>).
    /// </summary>
    public static bool IsSafeCommandLine(string cmdline) => Inventory.Profiles.ProfileRenderer.IsIpxeSafeCmdline(cmdline);

    private static string Fill(string template, string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, m =>
        {
            var name = m.Groups[1].Value;
            if (!values.TryGetValue(name, out var value))
            {
                throw new InvalidOperationException($"iPXE template '{template}' needs a value for '{name}'");
            }

            var ok = name == "cmdline" ? IsSafeCommandLine(value) : SafeValue().IsMatch(value);
            if (!ok)
            {
                throw new ArgumentException($"the value for '{name}' in iPXE template '{template}' has characters iPXE could interpret");
            }

            return value;
        });
}
