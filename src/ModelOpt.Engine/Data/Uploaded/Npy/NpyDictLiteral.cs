using System.Globalization;

namespace ModelOpt.Engine.Data.Uploaded.Npy;

/// <summary>
/// A strict reader of the one Python literal a .npy header holds: a dict with exactly the keys <c>descr</c> (a string),
/// <c>fortran_order</c> (True/False) and <c>shape</c> (a tuple of non-negative integers), in any order, with an optional
/// trailing comma and the padding spaces and newline NumPy adds. See ADR-008 for why it is hand-written.
/// </summary>
internal sealed class NpyDictLiteral
{
    private readonly string text;
    private readonly string arrayName;
    private int position;

    private NpyDictLiteral(string text, string arrayName)
    {
        this.text = text;
        this.arrayName = arrayName;
    }

    public static (string Descr, bool FortranOrder, long[] Shape) Parse(string text, string arrayName)
    {
        var parser = new NpyDictLiteral(text, arrayName);
        string? descr = null;
        bool? fortranOrder = null;
        long[]? shape = null;
        parser.Expect('{');
        while (!parser.TryConsume('}'))
        {
            var key = parser.ReadString();
            parser.Expect(':');
            switch (key)
            {
                case "descr" when descr is null:
                    descr = parser.ReadString();
                    break;
                case "fortran_order" when fortranOrder is null:
                    fortranOrder = parser.ReadBool();
                    break;
                case "shape" when shape is null:
                    shape = parser.ReadShape();
                    break;
                default:
                    throw parser.Fail($"unexpected or repeated key '{key}'");
            }
            if (!parser.TryConsume(','))
            {
                parser.Expect('}');
                break;
            }
        }
        parser.SkipSpace();
        if (parser.position != text.Length)
        {
            throw parser.Fail("text after the closing brace");
        }
        return (descr ?? throw parser.Fail("no 'descr'"), fortranOrder ?? throw parser.Fail("no 'fortran_order'"), shape ?? throw parser.Fail("no 'shape'"));
    }

    private string ReadString()
    {
        SkipSpace();
        var quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw Fail("a quoted string was expected");
        }
        var end = text.IndexOf(quote, position + 1);
        if (end < 0 || text.IndexOf('\\', position + 1, end - position - 1) >= 0)
        {
            throw Fail("an unterminated or escaped string");
        }
        var value = text[(position + 1)..end];
        position = end + 1;
        return value;
    }

    private bool ReadBool()
    {
        SkipSpace();
        foreach (var (word, value) in new[] { ("True", true), ("False", false) })
        {
            if (string.CompareOrdinal(text, position, word, 0, word.Length) == 0)
            {
                position += word.Length;
                return value;
            }
        }
        throw Fail("True or False was expected");
    }

    private long[] ReadShape()
    {
        Expect('(');
        var dims = new List<long>();
        while (!TryConsume(')'))
        {
            SkipSpace();
            var start = position;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }
            if (position == start || !long.TryParse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out var dim))
            {
                throw Fail("a non-negative integer was expected in 'shape'");
            }
            dims.Add(dim);
            if (!TryConsume(','))
            {
                Expect(')');
                break;
            }
        }
        return [.. dims];
    }

    private void Expect(char c)
    {
        if (!TryConsume(c))
        {
            throw Fail($"'{c}' was expected");
        }
    }

    private bool TryConsume(char c)
    {
        SkipSpace();
        if (Peek() != c)
        {
            return false;
        }
        position++;
        return true;
    }

    private char Peek() => position < text.Length ? text[position] : '\0';

    private void SkipSpace()
    {
        while (position < text.Length && text[position] is ' ' or '\n' or '\t' or '\r')
        {
            position++;
        }
    }

    private DatasetException Fail(string problem) =>
        new($"'{arrayName}' has a malformed .npy header ({problem} at character {position}).");
}
