namespace ModelOpt.Engine.Runtime;

/// <summary>LibTorch's quantized CPU engines, with the values of <c>c10::QEngine</c>.</summary>
public enum QEngine : byte
{
    NoQEngine = 0,
    Fbgemm = 1,
    Qnnpack = 2,
    OneDnn = 3,
    X86 = 4,
}
