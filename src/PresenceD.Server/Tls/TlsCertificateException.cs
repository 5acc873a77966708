namespace PresenceD.Server.Tls;

/// <summary>tls_cert_file or tls_key_file cannot be used; the message names the file and why.</summary>
internal sealed class TlsCertificateException(string message, Exception? inner = null) : Exception(message, inner);
