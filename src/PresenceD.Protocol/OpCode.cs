namespace PresenceD.Protocol;
