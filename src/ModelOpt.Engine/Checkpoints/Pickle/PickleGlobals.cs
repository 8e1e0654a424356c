namespace ModelOpt.Engine.Checkpoints.Pickle;

/// <summary>
/// The Python globals a checkpoint's pickle may name, as <c>torch.load(weights_only=True)</c> allows them for a state_dict:
/// <c>collections.OrderedDict</c>, the tensor and parameter rebuild functions and the typed storage classes. Calling
/// one builds plain data (<see cref="PickleDict"/>, <see cref="PickledTensor"/>), never an object of the file's choosing.
/// </summary>
internal static class PickleGlobals
{
    private const string OrderedDict = "collections.OrderedDict";
    private const string RebuildTensor = "torch._utils._rebuild_tensor";
    private const string RebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
    private const string RebuildParameter = "torch._utils._rebuild_parameter";
    private const string RebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";

    private static readonly HashSet<string> Functions = [OrderedDict, RebuildTensor, RebuildTensorV2, RebuildParameter, RebuildParameterWithState];

    private static readonly Dictionary<string, ScalarType> StorageTypes = new()
    {
        ["DoubleStorage"] = ScalarType.Float64,
        ["FloatStorage"] = ScalarType.Float32,
        ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16,
        ["LongStorage"] = ScalarType.Int64,
        ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16,
        ["CharStorage"] = ScalarType.Int8,
        ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
        ["ComplexFloatStorage"] = ScalarType.ComplexFloat32,
        ["ComplexDoubleStorage"] = ScalarType.ComplexFloat64,
    };

    /// <exception cref="CheckpointFormatException">The global is not on the allowlist; the message names it.</exception>
    public static PickleGlobal Resolve(string module, string name, string source)
    {
        var global = new PickleGlobal(module, name);
        if (Functions.Contains(global.ToString()) || (module == "torch" && StorageTypes.ContainsKey(name)))
        {
            return global;
        }
        throw new CheckpointFormatException(source,
            $"its pickle refers to the Python global '{global}', which a checkpoint may not contain. Only what "
            + "torch.load(weights_only=True) allows for a state_dict is read: collections.OrderedDict, torch._utils._rebuild_tensor_v2 "
            + "and the torch storage types. Save the model's state_dict, not the model object.");
    }

    public static object Call(PickleGlobal global, object?[] args, string source) => global.ToString() switch
    {
        OrderedDict when args.Length == 0 => new PickleDict(),
        OrderedDict when args is [IEnumerable<object?> pairs] => Dict(pairs, source),
        RebuildTensor or RebuildTensorV2 => Tensor(args, source),
        RebuildParameter or RebuildParameterWithState when args is [PickledTensor data, ..] => data,
        _ => throw Malformed(source, $"{global} is called with ({string.Join(", ", args.Select(RestrictedUnpickler.Describe))})."),
    };

    /// <summary>BUILD sets attributes: an OrderedDict's <c>_metadata</c> is all a state_dict carries, and it is not needed.</summary>
    public static void Build(object? target, object? state, string source)
    {
        if (target is not PickleDict || state is not (PickleDict or null))
        {
            throw Malformed(source, $"BUILD sets the state of a {RestrictedUnpickler.Describe(target)}, which a state_dict never does.");
        }
    }

    /// <summary>torch.save's persistent id: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
    public static PickledStorage PersistentLoad(object? id, string source)
    {
        if (id is object?[] { Length: 5 } fields && fields[0] is "storage" && fields[1] is PickleGlobal { Module: "torch" } type
            && StorageTypes.TryGetValue(type.Name, out var dtype) && fields[2] is string { Length: > 0 and <= 64 } key && fields[4] is long count && count >= 0)
        {
            return new PickledStorage(key, dtype, count);
        }
        throw Malformed(source, "a persistent id is not torch.save's ('storage', type, key, location, element count).");
    }

    // OrderedDict(iterable of (key, value) pairs), as some writers pickle a state_dict.
    private static PickleDict Dict(IEnumerable<object?> pairs, string source)
    {
        var dict = new PickleDict();
        foreach (var pair in pairs)
        {
            if (pair is not object?[] { Length: 2 } keyValue)
            {
                throw Malformed(source, $"collections.OrderedDict is given a {RestrictedUnpickler.Describe(pair)} where a (key, value) pair belongs.");
            }
            dict[keyValue[0] ?? PickleDict.NoneKey] = keyValue[1];
        }
        return dict;
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
    private static PickledTensor Tensor(object?[] args, string source)
    {
        if (args is [PickledStorage storage, long offset, object?[] size, object?[] stride, ..]
            && size.All(d => d is long) && stride.All(s => s is long))
        {
            return new PickledTensor(storage, offset, [.. size.Cast<long>()], [.. stride.Cast<long>()]);
        }
        throw Malformed(source, $"a tensor is rebuilt from ({string.Join(", ", args.Select(RestrictedUnpickler.Describe))}), not (storage, offset, size, stride).");
    }

    private static CheckpointFormatException Malformed(string source, string problem) => new(source, $"its data.pkl is malformed: {problem}");
}
