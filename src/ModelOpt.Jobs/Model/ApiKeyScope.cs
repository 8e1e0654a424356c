namespace ModelOpt.Jobs.Model;

/// <summary>What a key may do; each scope includes the ones before it.</summary>
public enum ApiKeyScope
{
    /// <summary>GET: jobs, checkpoints, artifacts, the catalogues.</summary>
    Read,

    /// <summary>Also upload and delete checkpoints, submit, cancel and retry jobs.</summary>
    Write,

    /// <summary>Also what a worker without the shared folder needs: download stored inputs and upload artifacts (/api/workers/files).</summary>
    Worker,

    /// <summary>Also manage keys and open the Hangfire dashboard.</summary>
    Admin,
}
