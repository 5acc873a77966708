namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The admin port's routes: <c>/metrics</c> (Prometheus text), <c>/healthz</c> (the process answers:
/// 200) and <c>/readyz</c> (200 when <see cref="ReadinessCheck"/> holds, else 503 naming what fails).
/// </summary>
internal sealed class AdminEndpoints(PrometheusExporter exporter, ReadinessCheck readiness)
{
    public AdminResponse Handle(string target)
    {
        int query = target.IndexOf('?', StringComparison.Ordinal);
        string path = query < 0 ? target : target[..query];
        switch (path)
        {
            case "/metrics":
                return new AdminResponse(200, PrometheusExporter.ContentType, exporter.Scrape());
            case "/healthz":
                return AdminResponse.Text(200, "ok\n");
            case "/readyz":
                string states = readiness.Describe();
                string details = states.Length == 0 ? "" : " (" + states + ")";
                return readiness.IsReady(out IReadOnlyList<string> failing)
                    ? AdminResponse.Text(200, "ready" + details + "\n")
                    : AdminResponse.Text(503, "not ready: " + string.Join(", ", failing) + details + "\n");
            default:
                return AdminResponse.Text(404, "not found; try /metrics, /healthz or /readyz\n");
        }
    }
}
