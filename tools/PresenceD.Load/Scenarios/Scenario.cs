namespace PresenceD.Load.Scenarios;

/// <summary>Steps the scenarios share.</summary>
internal static class Scenario
{
    /// <summary>Waits until <paramref name="count"/> JOINED replies arrived in total (60 s at most).</summary>
    public static async Task WaitJoinedAsync(LoadContext context, long count)
    {
        context.Phase = $"waiting for {count} joins";
        if (!await Measurement.LoadStats.WaitUntilAsync(() => context.Stats.Joined >= count, TimeSpan.FromSeconds(60), context.Cancellation))
            throw new LoadException($"only {context.Stats.Joined} of {count} joins were confirmed within 60 s");
    }
}
