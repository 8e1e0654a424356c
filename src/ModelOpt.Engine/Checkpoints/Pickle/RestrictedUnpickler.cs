using System.Buffers.Binary;
using System.Text;

namespace ModelOpt.Engine.Checkpoints.Pickle;

/// <summary>
/// A pickle reader for <c>torch.save</c>'s <c>data.pkl</c> that constructs nothing but plain data: dicts (ordered), lists,
/// tuples, strings, numbers, booleans, None, and the tensor references <c>torch.load(weights_only=True)</c> allows.
/// Any other global (<c>posix.system</c>, a custom class) is refused by name before anything is called; every length
/// is checked against the bytes that remain, so a lying pickle cannot make it allocate more than it holds.
/// </summary>
/// <remarks>
/// Only the opcodes of protocols 2-5 that a state_dict pickle can contain are understood; the rest are refused by name.
/// The machine is iterative (no recursion), so nesting depth cannot overflow the stack.
/// </remarks>
internal sealed class RestrictedUnpickler
{
    private static readonly object Mark = new();

    private readonly byte[] data;
    private readonly string source;
    private readonly List<object?> stack = [];
    private readonly List<int> marks = [];
    private readonly Dictionary<long, object?> memo = [];
    private int position;

    private RestrictedUnpickler(byte[] data, string source)
    {
        this.data = data;
        this.source = source;
    }

    /// <summary>Unpickles <paramref name="pickle"/>; dicts come back as <see cref="PickleDict"/>, tuples as <c>object?[]</c>, lists as <c>List&lt;object?&gt;</c>.</summary>
    /// <exception cref="CheckpointFormatException">A global outside the allowlist, an unsupported opcode, or a malformed pickle.</exception>
    public static object? Load(byte[] pickle, string source) => new RestrictedUnpickler(pickle, source).Run();

    private object? Run()
    {
        while (true)
        {
            var at = position;
            var opcode = ReadByte();
            switch (opcode)
            {
                case 0x80: // PROTO
                    var protocol = ReadByte();
                    if (protocol is < 2 or > 5)
                    {
                        throw Fail($"pickle protocol {protocol} is not one torch.save writes (2-5).");
                    }
                    break;
                case 0x95: // FRAME: a length hint only
                    Take(8);
                    break;
                case (byte)'.': // STOP
                    var result = Pop();
                    if (stack.Count > 0 || marks.Count > 0)
                    {
                        throw Fail("the pickle stops with values left on its stack.");
                    }
                    return result;
                case (byte)'(': // MARK
                    marks.Add(stack.Count);
                    stack.Add(Mark);
                    break;
                case (byte)'0': // POP
                    Pop();
                    break;
                case (byte)'1': // POP_MARK
                    PopToMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;
                case (byte)'N':
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2)));
                    break;
                case 0x8a: // LONG1
                    Push(ReadLong(ReadByte()));
                    break;
                case 0x8b: // LONG4
                    Push(ReadLong(ReadLength(4)));
                    break;
                case (byte)'G': // BINFLOAT (big-endian)
                    Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8)));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(ReadString(ReadLength(4)));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(ReadString(ReadByte()));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(ReadString(ReadLength(8)));
                    break;
                case (byte)'B': // BINBYTES
                    Push(Take(ReadLength(4)).ToArray());
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(Take(ReadByte()).ToArray());
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(Array.Empty<object?>());
                    break;
                case (byte)'t': // TUPLE
                    Push(PopToMark().ToArray());
                    break;
                case 0x85: // TUPLE1
                case 0x86: // TUPLE2
                case 0x87: // TUPLE3
                    Push(PopMany(opcode - 0x84));
                    break;
                case (byte)'l': // LIST
                    Push(PopToMark());
                    break;
                case (byte)'d': // DICT
                    var dict = new PickleDict();
                    SetItems(dict, PopToMark());
                    Push(dict);
                    break;
                case (byte)'a': // APPEND
                    var item = Pop();
                    As<List<object?>>(Peek(), "APPEND").Add(item);
                    break;
                case (byte)'e': // APPENDS
                    var items = PopToMark();
                    As<List<object?>>(Peek(), "APPENDS").AddRange(items);
                    break;
                case (byte)'s': // SETITEM
                    var value = Pop();
                    var key = Pop();
                    SetItems(As<PickleDict>(Peek(), "SETITEM"), [key, value]);
                    break;
                case (byte)'u': // SETITEMS
                    var pairs = PopToMark();
                    SetItems(As<PickleDict>(Peek(), "SETITEMS"), pairs);
                    break;
                case (byte)'q': // BINPUT
                    memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    memo[memo.Count] = Peek();
                    break;
                case (byte)'h': // BINGET
                    Push(Recall(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))));
                    break;
                case (byte)'c': // GLOBAL "module\nname\n"
                    Push(PickleGlobals.Resolve(ReadLine(), ReadLine(), source));
                    break;
                case 0x93: // STACK_GLOBAL
                    var name = Pop() as string;
                    var module = Pop() as string;
                    if (module is null || name is null)
                    {
                        throw Fail($"STACK_GLOBAL at byte {at} needs two strings.");
                    }
                    Push(PickleGlobals.Resolve(module, name, source));
                    break;
                case (byte)'R': // REDUCE
                case 0x81: // NEWOBJ
                    var arguments = Pop();
                    var callable = Pop();
                    if (callable is not PickleGlobal global || arguments is not object?[] args)
                    {
                        throw Fail($"{(opcode == 0x81 ? "NEWOBJ" : "REDUCE")} at byte {at} calls something that is not an allowed global.");
                    }
                    Push(PickleGlobals.Call(global, args, source));
                    break;
                case (byte)'b': // BUILD
                    var state = Pop();
                    PickleGlobals.Build(Peek(), state, source);
                    break;
                case (byte)'Q': // BINPERSID
                    Push(PickleGlobals.PersistentLoad(Pop(), source));
                    break;
                default:
                    throw Fail($"pickle opcode 0x{opcode:x2} at byte {at} is not one a state_dict pickle uses.");
            }
        }
    }

    private static void SetItems(PickleDict dict, List<object?> pairs)
    {
        for (var i = 0; i + 1 < pairs.Count; i += 2)
        {
            dict[pairs[i] ?? PickleDict.NoneKey] = pairs[i + 1];
        }
    }

    private T As<T>(object? value, string opcode) where T : class =>
        value as T ?? throw Fail($"{opcode} at byte {position - 1} applies to a {Describe(value)}.");

    private object? Recall(long index) =>
        memo.TryGetValue(index, out var value) ? value : throw Fail($"the pickle recalls memo entry {index}, which was never stored.");

    private void Push(object? value) => stack.Add(value);

    private object? Peek()
    {
        if (stack.Count == 0 || (marks.Count > 0 && marks[^1] == stack.Count - 1))
        {
            throw Fail($"the pickle's stack is empty at byte {position - 1}.");
        }
        return stack[^1];
    }

    private object? Pop()
    {
        var value = Peek();
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private object?[] PopMany(int count)
    {
        var values = new object?[count];
        for (var i = count - 1; i >= 0; i--)
        {
            values[i] = Pop();
        }
        return values;
    }

    private List<object?> PopToMark()
    {
        if (marks.Count == 0)
        {
            throw Fail($"the pickle closes a MARK it never opened at byte {position - 1}.");
        }
        var start = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        var values = stack.GetRange(start + 1, stack.Count - start - 1);
        stack.RemoveRange(start, stack.Count - start);
        return values;
    }

    private byte ReadByte() => Take(1)[0];

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > data.Length - position)
        {
            throw Fail($"the pickle ends early: {count} bytes wanted at byte {position}, {data.Length - position} left.");
        }
        var span = data.AsSpan(position, count);
        position += count;
        return span;
    }

    // A length field checked against the bytes that remain before anything is allocated for it.
    private int ReadLength(int width)
    {
        var raw = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        if (raw > (ulong)(data.Length - position))
        {
            throw Fail($"a pickled value claims {raw} bytes at byte {position}, but only {data.Length - position} remain.");
        }
        return (int)raw;
    }

    private string ReadString(int length)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length));
        }
        catch (DecoderFallbackException)
        {
            throw Fail($"a pickled string before byte {position} is not valid UTF-8.");
        }
    }

    private long ReadLong(int length)
    {
        if (length > 8)
        {
            throw Fail($"a pickled integer of {length} bytes at byte {position} is larger than a state_dict holds.");
        }
        var bytes = Take(length);
        long value = length > 0 && (bytes[^1] & 0x80) != 0 ? -1 : 0;
        for (var i = length - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[i];
        }
        return value;
    }

    private string ReadLine()
    {
        var end = Array.IndexOf(data, (byte)'\n', position);
        if (end < 0 || end - position > 256)
        {
            throw Fail($"a GLOBAL at byte {position} has no name line.");
        }
        var line = Encoding.ASCII.GetString(data, position, end - position);
        position = end + 1;
        return line;
    }

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string => "str",
        long => "int",
        double => "float",
        bool => "bool",
        byte[] => "bytes",
        object?[] => "tuple",
        List<object?> => "list",
        PickleDict => "dict",
        PickleGlobal g => g.ToString(),
        PickledTensor => "Tensor",
        PickledStorage => "storage",
        _ => value.GetType().Name,
    };

    private CheckpointFormatException Fail(string problem) => new(source, $"its data.pkl is malformed: {problem}");
}
