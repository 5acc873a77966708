using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace PresenceD.Clients.Tests;

/// <summary>What an assembly file says about itself, read from its metadata without loading it.</summary>
internal sealed class AssemblyFacts
{
    private AssemblyFacts(string name, string? targetFramework, IReadOnlyList<(string Name, Version Version)> references,
        IReadOnlyList<string> referencedTypes, SortedSet<string> publicApi)
    {
        Name = name;
        TargetFramework = targetFramework;
        References = references;
        ReferencedTypes = referencedTypes;
        PublicApi = publicApi;
    }

    public string Name { get; }

    /// <summary>The TargetFrameworkAttribute's value, e.g. ".NETStandard,Version=v2.1".</summary>
    public string? TargetFramework { get; }

    public IReadOnlyList<(string Name, Version Version)> References { get; }

    /// <summary>Every type the assembly uses from another assembly, as "assembly: Namespace.Type".</summary>
    public IReadOnlyList<string> ReferencedTypes { get; }

    /// <summary>Public types and their public members ("Type::Method/2", "Type.Field").</summary>
    public SortedSet<string> PublicApi { get; }

    public static AssemblyFacts Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        AssemblyDefinition assembly = md.GetAssemblyDefinition();
        var references = md.AssemblyReferences.Select(h => md.GetAssemblyReference(h))
            .Select(r => (md.GetString(r.Name), r.Version)).ToList();
        var types = new List<string>();
        foreach (TypeReferenceHandle h in md.TypeReferences)
        {
            TypeReference t = md.GetTypeReference(h);
            if (t.ResolutionScope.Kind != HandleKind.AssemblyReference) continue;
            string scope = md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)t.ResolutionScope).Name);
            types.Add($"{scope}: {md.GetString(t.Namespace)}.{md.GetString(t.Name)}");
        }
        return new AssemblyFacts(md.GetString(assembly.Name), TargetFrameworkOf(md, assembly), references, types, PublicApiOf(md));
    }

    private static string? TargetFrameworkOf(MetadataReader md, AssemblyDefinition assembly)
    {
        foreach (CustomAttributeHandle h in assembly.GetCustomAttributes())
        {
            CustomAttribute attribute = md.GetCustomAttribute(h);
            if (attribute.Constructor.Kind != HandleKind.MemberReference) continue;
            MemberReference ctor = md.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            if (ctor.Parent.Kind != HandleKind.TypeReference) continue;
            if (md.GetString(md.GetTypeReference((TypeReferenceHandle)ctor.Parent).Name) != "TargetFrameworkAttribute") continue;
            BlobReader blob = md.GetBlobReader(attribute.Value);
            blob.ReadUInt16(); // prolog
            return blob.ReadSerializedString();
        }
        return null;
    }

    private static SortedSet<string> PublicApiOf(MetadataReader md)
    {
        var api = new SortedSet<string>(StringComparer.Ordinal);
        foreach (TypeDefinitionHandle h in md.TypeDefinitions)
        {
            TypeDefinition type = md.GetTypeDefinition(h);
            if (!IsVisible(md, type)) continue;
            string name = FullName(md, type);
            api.Add(name);
            foreach (MethodDefinitionHandle m in type.GetMethods())
            {
                MethodDefinition method = md.GetMethodDefinition(m);
                MethodAttributes access = method.Attributes & MethodAttributes.MemberAccessMask;
                if (access is MethodAttributes.Public or MethodAttributes.Family or MethodAttributes.FamORAssem)
                    api.Add($"{name}::{md.GetString(method.Name)}/{method.GetParameters().Count}");
            }
            foreach (FieldDefinitionHandle f in type.GetFields())
            {
                FieldDefinition field = md.GetFieldDefinition(f);
                if ((field.Attributes & FieldAttributes.FieldAccessMask) == FieldAttributes.Public) api.Add($"{name}.{md.GetString(field.Name)}");
            }
        }
        return api;
    }

    private static bool IsVisible(MetadataReader md, TypeDefinition type)
    {
        TypeAttributes visibility = type.Attributes & TypeAttributes.VisibilityMask;
        if (visibility == TypeAttributes.Public) return true;
        if (visibility != TypeAttributes.NestedPublic) return false;
        return IsVisible(md, md.GetTypeDefinition(type.GetDeclaringType()));
    }

    private static string FullName(MetadataReader md, TypeDefinition type)
    {
        if (type.GetDeclaringType().IsNil) return $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}";
        return $"{FullName(md, md.GetTypeDefinition(type.GetDeclaringType()))}+{md.GetString(type.Name)}";
    }
}
