using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Protocol.Messages;

namespace PresenceD.Client.Internal;

/// <summary>
/// Outstanding requests keyed by rid (never 0). Replies complete them (with the decoded frame, or with the public type
/// the receive loop made of it); ERROR replies fail them with <see cref="PresenceRequestException"/>; <see cref="Expire"/>
/// fails the overdue ones with <see cref="TimeoutException"/>. Times are caller-supplied milliseconds so tests can drive them.
/// </summary>
internal sealed class RequestTable
{
    private readonly object _lock = new object();
    private readonly Dictionary<uint, Pending> _pending = new Dictionary<uint, Pending>();
    private uint _lastRid;

    public int Count
    {
        get { lock (_lock) return _pending.Count; }
    }

    /// <summary>Allocates a rid and a task that its reply (or failure) completes.</summary>
    public uint Register(long deadlineMs, string what, out Task<object> reply)
    {
        var source = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            uint rid;
            do
            {
                rid = unchecked(++_lastRid);
            }
            while (rid == 0 || _pending.ContainsKey(rid));
            _pending[rid] = new Pending(source, deadlineMs, what);
            reply = source.Task;
            return rid;
        }
    }

    /// <summary>Completes rid's request with its reply; false when no such request is outstanding.</summary>
    public bool Complete(uint rid, object reply)
    {
        Pending pending;
        lock (_lock)
        {
            if (!_pending.TryGetValue(rid, out pending)) return false;
            _pending.Remove(rid);
        }
        if (reply is ErrorMessage error) pending.Source.TrySetException(new PresenceRequestException(WireTypes.Code(error.Code), error.Text));
        else pending.Source.TrySetResult(reply);
        return true;
    }

    /// <summary>True while rid's request waits for its reply (a late reply to a cancelled request finds none).</summary>
    public bool IsPending(uint rid)
    {
        lock (_lock) return _pending.ContainsKey(rid);
    }

    /// <summary>Drops rid's request without completing it (its frame was never sent).</summary>
    public void Forget(uint rid)
    {
        lock (_lock) _pending.Remove(rid);
    }

    /// <summary>Fails one request (e.g. its frame could not be sent).</summary>
    public void Fail(uint rid, Exception error)
    {
        Pending pending;
        lock (_lock)
        {
            if (!_pending.TryGetValue(rid, out pending)) return;
            _pending.Remove(rid);
        }
        pending.Source.TrySetException(error);
    }

    /// <summary>Fails every request whose deadline is at or before <paramref name="nowMs"/>; returns how many.</summary>
    public int Expire(long nowMs)
    {
        List<Pending>? overdue = null;
        lock (_lock)
        {
            if (_pending.Count == 0) return 0;
            List<uint>? rids = null;
            foreach (KeyValuePair<uint, Pending> entry in _pending)
            {
                if (entry.Value.DeadlineMs > nowMs) continue;
                (rids ??= new List<uint>()).Add(entry.Key);
                (overdue ??= new List<Pending>()).Add(entry.Value);
            }
            if (rids is null) return 0;
            foreach (uint rid in rids) _pending.Remove(rid);
        }
        foreach (Pending pending in overdue!)
            pending.Source.TrySetException(new TimeoutException($"{pending.What}: no reply from the server in time"));
        return overdue.Count;
    }

    /// <summary>Fails every outstanding request (the connection is gone).</summary>
    public void FailAll(Exception error)
    {
        Pending[] all;
        lock (_lock)
        {
            all = new Pending[_pending.Count];
            _pending.Values.CopyTo(all, 0);
            _pending.Clear();
        }
        foreach (Pending pending in all) pending.Source.TrySetException(error);
    }

    private readonly struct Pending
    {
        public Pending(TaskCompletionSource<object> source, long deadlineMs, string what)
        {
            Source = source;
            DeadlineMs = deadlineMs;
            What = what;
        }

        public TaskCompletionSource<object> Source { get; }
        public long DeadlineMs { get; }
        public string What { get; }
    }
}
