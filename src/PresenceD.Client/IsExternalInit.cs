#if NETSTANDARD2_1
namespace System.Runtime.CompilerServices;

/// <summary>Lets records compile for netstandard2.1 (the type ships with .NET 5+ only).</summary>
internal static class IsExternalInit
{
}
#endif
