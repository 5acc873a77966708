using PresenceD.Client;
using UnityEngine;

namespace PresenceD.Unity
{
    /// <summary>
    /// Raises a <see cref="PresenceClient"/>'s events on Unity's main thread, once per frame. The client must be
    /// created with <c>EventDispatch = EventDispatchMode.Manual</c>; events then wait in its queue until
    /// <see cref="PresenceClient.DispatchEvents"/> runs here, in <c>Update</c>.
    /// </summary>
    public sealed class PresenceDispatcher : MonoBehaviour
    {
        /// <summary>The client whose events are raised; null: nothing to do.</summary>
        public PresenceClient Client { get; set; }

        /// <summary>Events raised in the last frame.</summary>
        public int LastDispatched { get; private set; }

        private void Update()
        {
            PresenceClient client = Client;
            LastDispatched = client == null ? 0 : client.DispatchEvents();
        }
    }
}
