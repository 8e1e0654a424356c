global using Microsoft.EntityFrameworkCore;
global using System.Net;
global using System.Net.Http.Json;
global using ModelOpt.Api.Contracts;
global using ModelOpt.Jobs.Contracts;
global using ModelOpt.Jobs.Model;
global using CheckpointFormat = ModelOpt.Engine.Checkpoints.CheckpointFormat;
global using ModelOpt.Service.Tests.Infrastructure;

// One model job at a time per worker, and two cores on the CI machine: test classes run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
