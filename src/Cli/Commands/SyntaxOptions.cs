using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using NekkoMetal.Cli.Syntax;

namespace NekkoMetal.Cli.Commands;

/// <summary>
/// Options and arguments whose values have a syntax (labels, subnets, times): parsed while the command line
/// is parsed, so a bad value is a usage error (exit code 2) before anything is sent.
/// </summary>
internal static class SyntaxOptions
{
    private delegate bool TryParser<T>(string text, out T value, out string error);

    public static Option<IReadOnlyList<Label>> Labels(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "KEY=VALUE",
        Arity = ArgumentArity.ZeroOrMore,
        CustomParser = result => WithUniqueKeys(result, ParseAll<Label>(result, LabelSyntax.TryParse), label => label.Key),
    };

    public static Argument<IReadOnlyList<LabelChange>> LabelChanges(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result => WithUniqueKeys(result, ParseAll<LabelChange>(result, LabelSyntax.TryParseChange), change => change.Key),
    };

    public static Option<IReadOnlyList<SubnetSpec>> Subnets(string name, string description) => new(name)
    {
        Description = description,
        HelpName = SubnetSpec.Syntax,
        Arity = ArgumentArity.ZeroOrMore,
        CustomParser = result => ParseAll(result, (string text, out SubnetSpec subnet, out string error) =>
        {
            var ok = SubnetSpec.TryParse(text, out var parsed, out error);
            subnet = parsed!;
            return ok;
        }),
    };

    public static Option<TimeBound?> Time(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "TIME",
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (TimeBound.TryParse(text, out var bound, out var error))
            {
                return bound;
            }

            result.AddError(error);
            return null;
        },
    };

    public static Option<int?> Number(string name, string description, int minimum) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= minimum)
            {
                return number;
            }

            result.AddError($"{name} must be a whole number of at least {minimum}, not \"{text}\"");
            return null;
        },
    };

    /// <summary>Refuses a label given twice: which one should win is not obvious, so the user says.</summary>
    private static List<T> WithUniqueKeys<T>(ArgumentResult result, List<T> values, Func<T, string> key)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!seen.Add(key(value)))
            {
                result.AddError($"label \"{key(value)}\" is given twice");
                return [];
            }
        }

        return values;
    }

    private static List<T> ParseAll<T>(ArgumentResult result, TryParser<T> tryParse)
    {
        var values = new List<T>(result.Tokens.Count);
        foreach (var token in result.Tokens)
        {
            if (!tryParse(token.Value, out var value, out var error))
            {
                result.AddError(error);
                return [];
            }

            values.Add(value);
        }

        return values;
    }
}
