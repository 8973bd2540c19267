using System.Text;

namespace NekkoMetal.Cli.Output;

/// <summary>
/// A borderless table with columns padded to their widest cell and separated by three spaces, like kubectl:
/// readable, and still split by <c>awk</c>. Width never depends on the terminal, so redirected output is the same.
/// </summary>
internal sealed class TextTable
{
    private const string Gap = "   ";

    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public TextTable(params string[] headers) => _headers = headers;

    public void AddRow(params string[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"expected {_headers.Length} cells, got {cells.Length}", nameof(cells));
        }

        _rows.Add([.. cells.Select(cell => cell.Length == 0 ? JsonText.None : TerminalText.Clean(cell))]);
    }

    public void Write(TextWriter writer)
    {
        var widths = _headers.Select(header => header.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        WriteRow(writer, _headers, widths);
        foreach (var row in _rows)
        {
            WriteRow(writer, row, widths);
        }
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i == cells.Length - 1)
            {
                line.Append(cells[i]);
            }
            else
            {
                line.Append(cells[i].PadRight(widths[i])).Append(Gap);
            }
        }

        writer.WriteLine(line.ToString());
    }
}
