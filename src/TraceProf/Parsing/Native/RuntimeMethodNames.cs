using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Text;

namespace TraceProf.Parsing.Native;

/// <summary>
/// A method of a managed image named from its metadata the way the runtime's method events name it, so a ready-to-run
/// method read from its image (<see cref="ReadyToRunMethods"/>) and the same method named by an event are one frame.
/// </summary>
internal static class RuntimeMethodNames
{
    // The name as the runtime's method events give it: the type's full name (nested types after '+'), '.', the method,
    // and the parameter types in IL syntax.
    public static string Of(MetadataReader metadata, MethodDefinitionHandle handle)
    {
        var method = metadata.GetMethodDefinition(handle);
        var builder = new StringBuilder();
        AppendTypeName(metadata, method.GetDeclaringType(), builder);
        builder.Append('.').Append(metadata.GetString(method.Name)).Append('(');
        var signature = method.DecodeSignature(IlTypeNames.Instance, genericContext: null);
        for (var i = 0; i < signature.ParameterTypes.Length; i++)
        {
            builder.Append(i == 0 ? "" : ",").Append(signature.ParameterTypes[i]);
        }

        return builder.Append(')').ToString();
    }

    public static void AppendTypeName(MetadataReader metadata, TypeDefinitionHandle handle, StringBuilder builder)
    {
        var type = metadata.GetTypeDefinition(handle);
        var declaring = type.GetDeclaringType();
        if (!declaring.IsNil)
        {
            AppendTypeName(metadata, declaring, builder);
            builder.Append('+');
        }
        else if (!type.Namespace.IsNil && metadata.GetString(type.Namespace) is { Length: > 0 } ns)
        {
            builder.Append(ns).Append('.');
        }

        builder.Append(metadata.GetString(type.Name));
    }

    // Parameter types as the runtime's method events write them (IL syntax: int32, class System.String, value class X, !0).
    private sealed class IlTypeNames : ISignatureTypeProvider<string, object?>
    {
        public static IlTypeNames Instance { get; } = new();

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Void => "void",
            PrimitiveTypeCode.Boolean => "bool",
            PrimitiveTypeCode.Char => "wchar",
            PrimitiveTypeCode.SByte => "int8",
            PrimitiveTypeCode.Byte => "unsigned int8",
            PrimitiveTypeCode.Int16 => "int16",
            PrimitiveTypeCode.UInt16 => "unsigned int16",
            PrimitiveTypeCode.Int32 => "int32",
            PrimitiveTypeCode.UInt32 => "unsigned int32",
            PrimitiveTypeCode.Int64 => "int64",
            PrimitiveTypeCode.UInt64 => "unsigned int64",
            PrimitiveTypeCode.Single => "float32",
            PrimitiveTypeCode.Double => "float64",
            PrimitiveTypeCode.IntPtr => "native int",
            PrimitiveTypeCode.UIntPtr => "native unsigned int",
            PrimitiveTypeCode.String => "class System.String",
            PrimitiveTypeCode.Object => "class System.Object",
            PrimitiveTypeCode.TypedReference => "typedbyref",
            _ => typeCode.ToString(),
        };

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var builder = new StringBuilder(rawTypeKind == (byte)SignatureTypeKind.ValueType ? "value class " : "class ");
            AppendTypeName(reader, handle, builder);
            return builder.ToString();
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var reference = reader.GetTypeReference(handle);
            var name = reader.GetString(reference.Name);
            if (reference.ResolutionScope.Kind == HandleKind.TypeReference)
            {
                name = string.Concat(GetTypeFromReference(reader, (TypeReferenceHandle)reference.ResolutionScope, 0).AsSpan(6), "+", name);
            }
            else if (!reference.Namespace.IsNil && reader.GetString(reference.Namespace) is { Length: > 0 } ns)
            {
                name = string.Concat(ns, ".", name);
            }

            return (rawTypeKind == (byte)SignatureTypeKind.ValueType ? "value class " : "class ") + name;
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetArrayType(string elementType, ArrayShape shape) => string.Concat(elementType, "[", new string(',', Math.Max(shape.Rank - 1, 0)), "]");

        public string GetByReferenceType(string elementType) => elementType + "&";

        public string GetPointerType(string elementType) => elementType + "*";

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
            string.Concat(genericType, "<", string.Join(",", typeArguments), ">");

        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public string GetFunctionPointerType(MethodSignature<string> signature) => "method";

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        public string GetPinnedType(string elementType) => elementType;
    }
}
