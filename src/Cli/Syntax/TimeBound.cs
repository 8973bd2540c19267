using System.Globalization;
using System.Text.RegularExpressions;

namespace NekkoMetal.Cli.Syntax;

/// <summary>
/// A <c>--since</c>/<c>--until</c> value: an ISO 8601 time, passed to the server as typed, or a relative
/// duration such as <c>30m</c>, <c>1h</c>, <c>2d</c>, <c>1h30m</c> meaning that long before now.
/// </summary>
internal readonly partial record struct TimeBound
{
    private static readonly TimeSpan MaxAgo = TimeSpan.FromDays(100 * 366);

    private TimeBound(string? absolute, TimeSpan ago) => (Absolute, Ago) = (absolute, ago);

    /// <summary>The ISO 8601 text as given, or null for a relative bound.</summary>
    public string? Absolute { get; }

    public TimeSpan Ago { get; }

    public static bool TryParse(string text, out TimeBound bound, out string error)
    {
        bound = default;
        error = "";
        if (RelativePattern().IsMatch(text))
        {
            var ago = TimeSpan.Zero;
            foreach (Match part in RelativePart().Matches(text))
            {
                var unit = part.Groups[2].Value switch
                {
                    "s" => TimeSpan.FromSeconds(1),
                    "m" => TimeSpan.FromMinutes(1),
                    "h" => TimeSpan.FromHours(1),
                    "d" => TimeSpan.FromDays(1),
                    _ => TimeSpan.FromDays(7),
                };
                if (!long.TryParse(part.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                    || count > MaxAgo / unit)
                {
                    return Fail(text, out error);
                }

                ago += unit * count;
                if (ago > MaxAgo)
                {
                    return Fail(text, out error);
                }
            }

            bound = new TimeBound(null, ago);
            return true;
        }

        if (IsoDatePrefix().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            bound = new TimeBound(text, TimeSpan.Zero);
            return true;
        }

        return Fail(text, out error);
    }

    /// <summary>The value for the query string: the absolute text, or now minus the duration in UTC to the second.</summary>
    public string ToQueryValue(TimeProvider time) =>
        Absolute ?? (time.GetUtcNow() - Ago).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool Fail(string text, out string error)
    {
        error = $"invalid time \"{text}\": expected an ISO 8601 time (2026-01-02T15:04:05Z) or a duration before now (30m, 1h, 2d, 1w, 1h30m)";
        return false;
    }

    [GeneratedRegex("^([0-9]+[smhdw])+$", RegexOptions.CultureInvariant)]
    private static partial Regex RelativePattern();

    [GeneratedRegex("([0-9]+)([smhdw])", RegexOptions.CultureInvariant)]
    private static partial Regex RelativePart();

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDatePrefix();
}
