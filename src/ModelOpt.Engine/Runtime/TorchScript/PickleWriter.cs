using System.Buffers.Binary;
using System.Text;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Writes pickle protocol 2 opcodes: just the subset TorchScript's unpickler needs for a module object and its
/// constants table (globals, objects built from a dict, bools, strings, empty tuples and lists). No memo is written.
/// </summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream buffer = new();

    public PickleWriter()
    {
        buffer.Write([0x80, 0x02]); // PROTO 2
    }

    /// <summary>GLOBAL: pushes <c>module.name</c>, e.g. <c>__torch__.Int8Model</c>.</summary>
    public PickleWriter Global(string module, string name)
    {
        if (module.Contains('\n') || name.Contains('\n'))
        {
            throw new ArgumentException("A pickle GLOBAL cannot contain a newline.");
        }
        buffer.WriteByte((byte)'c');
        buffer.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        return this;
    }

    public PickleWriter EmptyTuple() => Op(')');

    public PickleWriter EmptyList() => Op(']');

    public PickleWriter EmptyDict() => Op('}');

    public PickleWriter Mark() => Op('(');

    /// <summary>SETITEMS: adds the key/value pairs pushed since the last MARK to the dict below the mark.</summary>
    public PickleWriter SetItems() => Op('u');

    /// <summary>NEWOBJ: <c>cls.__new__(cls, *args)</c> from a class and an argument tuple.</summary>
    public PickleWriter NewObj() => Op(0x81);

    /// <summary>BUILD: sets the object's state (its attribute dict).</summary>
    public PickleWriter Build() => Op('b');

    public PickleWriter Bool(bool value) => Op(value ? 0x88 : 0x89);

    /// <summary>BINUNICODE: a UTF-8 string with a 4-byte little-endian length.</summary>
    public PickleWriter String(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        buffer.WriteByte((byte)'X');
        buffer.Write(length);
        buffer.Write(utf8);
        return this;
    }

    /// <summary>Appends STOP and returns the pickle.</summary>
    public byte[] Finish()
    {
        Op('.');
        return buffer.ToArray();
    }

    private PickleWriter Op(int opcode)
    {
        buffer.WriteByte((byte)opcode);
        return this;
    }
}
