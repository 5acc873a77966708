using System.Reflection;

namespace PresenceD.Client.Tests.Api;

/// <summary>An application that uses the client needs no namespace but PresenceD.Client (and System's).</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void Every_type_in_the_public_api_lives_in_the_client_namespace()
    {
        Assembly client = typeof(PresenceClient).Assembly;
        var foreign = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Type type in client.GetExportedTypes())
        {
            Assert.Equal("PresenceD.Client", type.Namespace);
            if (type.BaseType is not null) Check(type.BaseType, type.Name, foreign);
            const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (MemberInfo member in type.GetMembers(Public))
            {
                string where = $"{type.Name}.{member.Name}";
                switch (member)
                {
                    case PropertyInfo property:
                        Check(property.PropertyType, where, foreign);
                        break;
                    case FieldInfo field:
                        Check(field.FieldType, where, foreign);
                        break;
                    case EventInfo @event:
                        Check(@event.EventHandlerType!, where, foreign);
                        break;
                    case MethodBase method:
                        if (method is MethodInfo returning) Check(returning.ReturnType, where, foreign);
                        foreach (ParameterInfo parameter in method.GetParameters()) Check(parameter.ParameterType, where, foreign);
                        break;
                }
            }
        }
        Assert.True(foreign.Count == 0, "types from other namespaces in the public API:\n" + string.Join("\n", foreign));
    }

    private static void Check(Type type, string where, ISet<string> foreign)
    {
        if (type.HasElementType)
        {
            Check(type.GetElementType()!, where, foreign);
            return;
        }
        if (type.IsGenericType)
        {
            foreach (Type argument in type.GetGenericArguments()) Check(argument, where, foreign);
            type = type.GetGenericTypeDefinition();
        }
        if (type.IsGenericParameter) return;
        string ns = type.Namespace ?? "";
        if (ns == "PresenceD.Client" || ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal)) return;
        foreign.Add($"{type.FullName} (in {where})");
    }
}
