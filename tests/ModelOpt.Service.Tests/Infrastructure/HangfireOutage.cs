using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>An outage switch for Hangfire's client: while <see cref="Down"/>, every enqueue fails as an unreachable storage would.</summary>
public sealed class HangfireOutage
{
    private int refused;

    public bool Down { get; set; }

    /// <summary>Enqueues refused so far (proof that something tried and failed).</summary>
    public int Refused => Volatile.Read(ref refused);

    /// <summary>Wraps the registered Hangfire client with this switch.</summary>
    public void Install(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IBackgroundJobClient));
        services.AddSingleton<IBackgroundJobClient>(provider => new SwitchedClient(
            registered.ImplementationFactory is { } factory
                ? (IBackgroundJobClient)factory(provider)
                : (IBackgroundJobClient)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!),
            this));
    }

    private sealed class SwitchedClient(IBackgroundJobClient inner, HangfireOutage outage) : IBackgroundJobClient
    {
        public string Create(Job job, IState state)
        {
            if (outage.Down)
            {
                Interlocked.Increment(ref outage.refused);
                throw new BackgroundJobClientException("Hangfire storage is down (test outage).", new TimeoutException());
            }
            return inner.Create(job, state);
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => inner.ChangeState(jobId, state, expectedState);
    }
}
