using System;
using System.Collections.Generic;
using System.Text;
using PresenceD.Client;
using UnityEngine;

namespace PresenceD.Samples
{
    /// <summary>
    /// Put on any GameObject of a scene: joins <see cref="room"/> as <see cref="user"/>, lists who is there, shows the
    /// room's messages and sends what is typed. The client runs in manual dispatch mode: its socket loop queues the
    /// events, and <see cref="Update"/> raises them on the main thread, where touching the scene is safe.
    /// </summary>
    public sealed class PresenceChatSample : MonoBehaviour
    {
        [SerializeField] private string server = "127.0.0.1:7400";
        [SerializeField] private string user = "unity-player";
        [SerializeField] private string room = "lobby";

        private readonly List<string> _lines = new List<string>();
        private PresenceClient _client;
        private string _input = "";

        private async void Start()
        {
            var options = new PresenceClientOptions
            {
                Credential = user,
                ClientName = "unity-sample",
                EventDispatch = EventDispatchMode.Manual,
            }.WithServer(server);
            _client = new PresenceClient(options);
            _client.MessageReceived += (_, m) => Show("<" + m.FromUser + "> " + Encoding.UTF8.GetString(m.Payload));
            _client.UserPresenceChanged += (_, u) => Show(u.User + (u.Online ? " is here" : " left"));
            _client.RoomRejoined += (_, r) => Show(r.Recovered ? "back in " + r.Room : "back in " + r.Room + " (messages may have been missed)");
            _client.StateChanged += (_, s) => Show("connection: " + s.Current);
            try
            {
                await _client.ConnectAsync();
                JoinedMessage joined = await _client.JoinAsync(room, Encoding.UTF8.GetBytes("in the sample scene"));
                Show("joined " + joined.Room + ": " + joined.Total + " member(s)");
            }
            catch (Exception e)
            {
                Show("could not join: " + e.Message);
            }
        }

        // Manual dispatch: every handler above runs here, on the main thread.
        private void Update()
        {
            if (_client != null) _client.DispatchEvents();
        }

        private void OnGUI()
        {
            GUILayout.BeginArea(new Rect(10, 10, 500, 400));
            foreach (string line in _lines) GUILayout.Label(line);
            _input = GUILayout.TextField(_input);
            if (GUILayout.Button("Send") && _input.Length > 0 && _client != null && _client.State == ConnectionState.Connected)
            {
                _client.Publish(room, Encoding.UTF8.GetBytes(_input));
                Show("<" + user + "> " + _input);
                _input = "";
            }
            GUILayout.EndArea();
        }

        private async void OnDestroy()
        {
            if (_client != null) await _client.CloseAsync();
        }

        private void Show(string line)
        {
            _lines.Add(line);
            if (_lines.Count > 20) _lines.RemoveAt(0);
            Debug.Log("[presence] " + line);
        }
    }
}
