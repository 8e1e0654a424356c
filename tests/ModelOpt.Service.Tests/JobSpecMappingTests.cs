using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Service.Tests;

/// <summary>The job request's settings map onto the engine's <see cref="OptimizationRequest"/> options field for field, with the engine's defaults.</summary>
public sealed class JobSpecMappingTests
{
    [Fact]
    public void Unset_settings_are_the_engine_defaults()
    {
        var spec = new CreateJobRequest { Model = "resnet20", Dataset = "synthetic" }.ToSpec();

        Assert.Equal(new TrainingOptions(), spec.Training.ToEngine());
        Assert.Equal(new QuantizationOptions(), spec.Quantization.ToEngine());
        Assert.Equal(new EvaluationOptions(), spec.Evaluation.ToEngine());
        Assert.Equal(new EvaluationOptions(TestSubset: null, LatencyBatchSize: 128, WarmupRuns: 5, TimedRuns: 50), spec.Evaluation.ToEngine());
        Assert.True(spec.Compile.Enabled);
        Assert.Equal(ImagePreprocessing.Notebook, spec.Preprocessing.ToEngine());
        Assert.Equal(new DatasetSplitOptions(), spec.Split.ToEngine());
        Assert.Null(spec.Output.TaskToEngine());
        Assert.Null(spec.Output.ClassAxis);
    }

    [Fact]
    public void A_generic_jobs_settings_reach_the_engine()
    {
        var spec = new CreateJobRequest
        {
            Model = "onnx:recognizer.onnx", Dataset = "synthetic",
            Quantization = new() { MinSqnrDb = 30, MinAgreement = 0.99 },
            Output = new() { Name = "sequence_logits", Task = "generic", ClassAxis = -1 },
        }.ToSpec();

        var quantization = spec.Quantization.ToEngine();
        Assert.Equal((30.0, 0.99), (quantization.MinSqnrDb, quantization.MinAgreement));
        Assert.Equal(QuantizationOptions.DefaultValidationImages, quantization.ValidationImages);
        Assert.Equal((JobTask.Generic, -1, "sequence_logits"), (spec.Output.TaskToEngine(), spec.Output.ClassAxis, spec.Output.Name));
    }

    [Fact]
    public void Settings_of_two_tasks_at_once_or_the_batch_axis_as_class_axis_are_refused_by_field()
    {
        var request = new CreateJobRequest
        {
            Model = "resnet20", Dataset = "synthetic",
            Quantization = new() { MaxAccuracyDrop = 0.5, MinSqnrDb = 30 },
            Output = new() { ClassAxis = 0 },
        };

        var errors = ModelOpt.Api.Infrastructure.RequestValidator.Validate(request);

        Assert.Contains("give one or the other", Assert.Single(errors["quantization.maxAccuracyDrop"]));
        Assert.Contains("classAxis 0 is the batch axis", Assert.Single(errors["output.classAxis"]));
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void Every_setting_reaches_the_engine()
    {
        var request = new CreateJobRequest
        {
            Model = "resnet20",
            Dataset = "fashion-mnist",
            Training = new() { Epochs = 3, LearningRate = 0.05, BatchSize = 32, TrainSubset = 2000, Seed = 7 },
            Quantization = new()
            {
                ActivationObserver = "percentile", Percentile = 99.9, PerChannelWeights = false, SymmetricActivations = true,
                CalibrationImages = 64, CalibrationBatchSize = 16, KeepFloat = ["layer1.0.conv1", "fc"], SensitivityImages = 100,
                CalibrationSampling = "stratified", CalibrationSeed = 3, MaxAccuracyDrop = 0.3, BiasCorrection = true,
                CrossLayerEqualization = true,
            },
            Evaluation = new() { TestSubset = 500, LatencyBatchSize = 32, WarmupRuns = 1, TimedRuns = 5 },
            Preprocessing = new() { Resize = [36], CenterCrop = [32, 30], Color = "grayscale", Mean = [0.2], Std = [0.3], Antialias = true },
            Split = new() { TestFraction = 0.1, Seed = 9 },
        };

        var spec = request.ToSpec();

        Assert.Equal(new TrainingOptions(3, 0.05, 32, 2000, 7), spec.Training.ToEngine());
        var quantization = spec.Quantization.ToEngine();
        Assert.Equal(new QuantizationOptions("percentile", 99.9, false, true, 64, 16, SensitivityImages: 100,
            CalibrationSampling: CalibrationSampling.Stratified, CalibrationSeed: 3, MaxAccuracyDrop: 0.3, BiasCorrection: true,
            CrossLayerEqualization: true), quantization with { KeepFloat = null });
        Assert.Equal(["layer1.0.conv1", "fc"], quantization.KeepFloat);
        Assert.Equal(new EvaluationOptions(500, 32, 1, 5), spec.Evaluation.ToEngine());
        var preprocessing = spec.Preprocessing.ToEngine();
        Assert.Equal([36], preprocessing.Resize!);
        Assert.Equal([32, 30], preprocessing.CenterCrop!);
        Assert.Equal([0.2], preprocessing.Mean!);
        Assert.Equal([0.3], preprocessing.Std!);
        Assert.Equal((ColorConversion.Grayscale, true), (preprocessing.Color, preprocessing.Antialias));
        Assert.Equal(new DatasetSplitOptions(0.1, 9), spec.Split.ToEngine());
        // A new engine option must get a request field: the records' parameter counts are pinned here.
        Assert.Equal(5, typeof(TrainingOptions).GetConstructors().Single().GetParameters().Length);
        Assert.Equal(15, typeof(QuantizationOptions).GetConstructors().Single().GetParameters().Length);
        Assert.Equal(7, typeof(ImagePreprocessing).GetConstructors().Single().GetParameters().Length);
        Assert.Equal(2, typeof(DatasetSplitOptions).GetConstructors().Single().GetParameters().Length);
        Assert.Equal(4, typeof(EvaluationOptions).GetConstructors().Single().GetParameters().Length);
    }
}
