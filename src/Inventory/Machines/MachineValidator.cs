using System.Globalization;
using System.Text.RegularExpressions;

namespace NekkoMetal.Inventory.Machines;

/// <summary>
/// Field rules for machines. Each check adds a message under the field's JSON path; callers throw one
/// <see cref="ValidationException"/> with every error at once.
/// </summary>
public static partial class MachineValidator
{
    public const int MaxSerialLength = 64;
    public const int MaxMacs = 16;
    public const int MaxLabels = 64;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SerialPattern();

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex RolePattern();

    // Kubernetes label syntax: optional DNS-subdomain prefix and '/', then a name of 1..63.
    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelKeyPattern();

    [GeneratedRegex("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelValuePattern();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$", RegexOptions.CultureInvariant)]
    private static partial Regex SitePattern();

    public static bool IsValidSerial(string? serial) =>
        serial is { Length: > 0 and <= MaxSerialLength } && SerialPattern().IsMatch(serial);

    public static void CheckSerial(string? serial, string field, Errors errors)
    {
        if (string.IsNullOrEmpty(serial))
        {
            errors.Add(field, "is required");
        }
        else if (serial.Length > MaxSerialLength)
        {
            errors.Add(field, $"must be at most {MaxSerialLength} characters");
        }
        else if (!SerialPattern().IsMatch(serial))
        {
            errors.Add(field, "may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit");
        }
    }

    /// <summary>Parses a MAC in <c>aa:bb:cc:dd:ee:ff</c> or <c>aa-bb-…</c> form into the canonical lowercase colon form.</summary>
    public static bool TryNormalizeMac(string? text, out string mac)
    {
        mac = "";
        if (text is null || text.Length != 17)
        {
            return false;
        }

        Span<byte> b = stackalloc byte[6];
        var sep = text[2];
        if (sep is not (':' or '-'))
        {
            return false;
        }

        for (var i = 0; i < 6; i++)
        {
            if (i > 0 && text[(i * 3) - 1] != sep)
            {
                return false;
            }

            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out b[i]))
            {
                return false;
            }
        }

        if (b.IndexOfAnyExcept((byte)0) < 0 || b.IndexOfAnyExcept((byte)0xff) < 0 || (b[0] & 1) == 1)
        {
            return false; // all-zero, broadcast and multicast are no NIC's address
        }

        mac = Convert.ToHexStringLower(b[..1]) + ":" + Convert.ToHexStringLower(b[1..2]) + ":" + Convert.ToHexStringLower(b[2..3]) + ":" +
              Convert.ToHexStringLower(b[3..4]) + ":" + Convert.ToHexStringLower(b[4..5]) + ":" + Convert.ToHexStringLower(b[5..6]);
        return true;
    }

    public static IReadOnlyList<string> NormalizeMacs(IReadOnlyList<string>? macs, string field, Errors errors, bool required)
    {
        if (macs is null || macs.Count == 0)
        {
            if (required)
            {
                errors.Add(field, "at least one MAC address is required");
            }

            return [];
        }

        if (macs.Count > MaxMacs)
        {
            errors.Add(field, $"at most {MaxMacs} MAC addresses");
            return [];
        }

        var result = new List<string>(macs.Count);
        for (var i = 0; i < macs.Count; i++)
        {
            if (!TryNormalizeMac(macs[i], out var mac))
            {
                errors.Add($"{field}[{i}]", "is not a unicast MAC address of the form aa:bb:cc:dd:ee:ff");
            }
            else if (result.Contains(mac))
            {
                errors.Add($"{field}[{i}]", "is listed twice");
            }
            else
            {
                result.Add(mac);
            }
        }

        return result;
    }

    public static bool IsValidRoleName(string role) => RolePattern().IsMatch(role);

    public static void CheckRole(string? role, string field, Errors errors)
    {
        if (role is not null && !RolePattern().IsMatch(role))
        {
            errors.Add(field, "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit");
        }
    }

    public static bool IsValidLabelKey(string key) => key.Length <= 253 + 1 + 63 && LabelKeyPattern().IsMatch(key);

    public static bool IsValidLabelValue(string value) => LabelValuePattern().IsMatch(value);

    public static void CheckLabels<TValue>(IReadOnlyDictionary<string, TValue>? labels, string field, Errors errors)
    {
        if (labels is null)
        {
            return;
        }

        if (labels.Count > MaxLabels)
        {
            errors.Add(field, $"at most {MaxLabels} labels");
            return;
        }

        foreach (var (k, v) in labels)
        {
            if (!IsValidLabelKey(k))
            {
                errors.Add($"{field}.{k}", "is not a valid label key (optional DNS prefix and '/', then 1-63 letters, digits, '-', '_' or '.')");
            }
            else if (v is string s && !IsValidLabelValue(s))
            {
                errors.Add($"{field}.{k}", "is not a valid label value (0-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)");
            }
        }
    }

    public static void CheckLocation(string? site, int? rack, int? index, Errors errors)
    {
        if (site is not null && !SitePattern().IsMatch(site))
        {
            errors.Add("site", "must be 1-63 letters, digits, '.', '_' or '-'");
        }

        if (rack is < 0 or > 9999)
        {
            errors.Add("rack", "must be between 0 and 9999");
        }

        if (index is < 0 or > 9999)
        {
            errors.Add("index", "must be between 0 and 9999");
        }
    }

    public static PowerInfo? NormalizePower(PowerInfo? power, Errors errors)
    {
        if (power is null)
        {
            return null;
        }

        var wol = power.WolMac;
        if (wol is not null)
        {
            if (TryNormalizeMac(wol, out var m))
            {
                wol = m;
            }
            else
            {
                errors.Add("power.wolMac", "is not a unicast MAC address of the form aa:bb:cc:dd:ee:ff");
            }
        }

        if (power.Bmc is { } bmc)
        {
            if (bmc.Type is not ("ipmi" or "redfish"))
            {
                errors.Add("power.bmc.type", "must be 'ipmi' or 'redfish'");
            }

            if (string.IsNullOrWhiteSpace(bmc.Address) || bmc.Address.Length > 253)
            {
                errors.Add("power.bmc.address", "is required (host name or IP address)");
            }
        }

        return power with { WolMac = wol };
    }

    /// <summary>Collects validation errors by field path.</summary>
    public sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
        private readonly string _prefix;

        public Errors(string prefix = "") => _prefix = prefix;

        public bool Any => _errors.Count > 0;

        public void Add(string field, string message)
        {
            var key = _prefix.Length == 0 ? field : $"{_prefix}.{field}";
            if (!_errors.TryGetValue(key, out var list))
            {
                _errors[key] = list = [];
            }

            list.Add(message);
        }

        public void ThrowIfAny()
        {
            if (Any)
            {
                throw new ValidationException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
            }
        }

        internal void MergeInto(Errors other)
        {
            foreach (var (k, v) in _errors)
            {
                foreach (var m in v)
                {
                    other.Add(k, m);
                }
            }
        }
    }
}
