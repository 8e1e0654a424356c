using System.Runtime.InteropServices;
using ModelOpt.Jobs.Execution;

namespace ModelOpt.Service.Tests;

/// <summary>What a failed job tells its user: the reason's first line, without the server's paths or a native stack trace.</summary>
public sealed class JobErrorTextTests
{
    [Fact]
    public void A_native_libtorch_error_keeps_its_first_line_and_loses_its_frames()
    {
        var native = new ExternalException("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1\n"
                                           + "Exception raised from infer_size_impl at /pytorch/aten/src/ATen/ExpandUtils.cpp:31 (most recent call first):\n"
                                           + "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9d (0x7f3 in /usr/lib/libc10.so)\n");
        var id = Guid.NewGuid();

        var text = JobErrorText.ForFailure(native, id);

        Assert.Equal($"The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 (the worker's log has the details under job {id}).", text);
    }

    [Fact]
    public void Absolute_paths_are_cut_to_their_file_name()
    {
        var io = new IOException("No space left on device : '/srv/modelopt/artifacts/.tmp/3f6c.part'");

        var text = JobErrorText.ForFailure(io, Guid.Empty);

        Assert.Contains("No space left on device : '3f6c.part'", text);
        Assert.DoesNotContain("/srv", text);
    }

    [Fact]
    public void Long_input_errors_are_bounded()
    {
        var text = JobErrorText.ForInput(new InvalidOperationException(new string('x', 10_000)));

        Assert.True(text.Length <= 2002, $"{text.Length} characters");
    }
}
