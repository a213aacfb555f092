using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EduDing.Api.Hosting;

/// <summary>An endpoint that reads a file from a multipart form's <c>file</c> field (<see cref="Uploads"/>).</summary>
internal sealed record UploadMetadata(IReadOnlyList<string> ContentTypes, string Description);

/// <summary>An endpoint whose success is a file of one of these types.</summary>
internal sealed record FileResponseMetadata(IReadOnlyList<string> ContentTypes);

/// <summary>
/// Files in the contract: an upload's multipart body (field <c>file</c>, binary) and a download's content types, so
/// that generated clients send a form and read bytes instead of guessing (miniapp-contract/README.md).
/// </summary>
internal static class ContractFiles
{
    public static readonly string[] Xlsx = [Hosting.Xlsx.ContentType];

    /// <summary>The request is multipart/form-data with a <c>file</c> field of one of <paramref name="contentTypes"/>.</summary>
    public static TBuilder AcceptsUpload<TBuilder>(this TBuilder builder, string description, params string[] contentTypes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new UploadMetadata(contentTypes, description));

    /// <summary>The 200 answer is a file of one of <paramref name="contentTypes"/> (xlsx when none are named).</summary>
    public static TBuilder ProducesFile<TBuilder>(this TBuilder builder, params string[] contentTypes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new FileResponseMetadata(contentTypes.Length == 0 ? Xlsx : contentTypes));

    /// <summary>Whether the handler reads the request itself (an upload) or answers with a file: each needs its metadata.</summary>
    public static (bool ReadsRequest, bool ReturnsFile) Shape(MethodInfo handler)
    {
        var returns = handler.ReturnType;
        if (returns.IsGenericType && returns.GetGenericTypeDefinition() is var generic
            && (generic == typeof(Task<>) || generic == typeof(ValueTask<>)))
        {
            returns = returns.GenericTypeArguments[0];
        }

        return (handler.GetParameters().Any(p => p.ParameterType == typeof(HttpRequest)), returns == typeof(FileContentHttpResult));
    }

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<UploadMetadata>().FirstOrDefault() is { } upload)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = upload.Description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "file" },
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["file"] = new OpenApiSchema
                                {
                                    Type = JsonSchemaType.String, Format = "binary",
                                    Description = $"The file ({string.Join(", ", upload.ContentTypes)}).",
                                },
                            },
                        },
                        Encoding = new Dictionary<string, OpenApiEncoding>
                        {
                            ["file"] = new() { ContentType = string.Join(", ", upload.ContentTypes) },
                        },
                    },
                },
            };
        }

        if (metadata.OfType<FileResponseMetadata>().FirstOrDefault() is { } file && operation.Responses?.TryGetValue("200", out var ok) == true
            && ok is OpenApiResponse response)
        {
            response.Description = "The file (Content-Disposition names it).";
            response.Content = file.ContentTypes.ToDictionary(type => type,
                _ => new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } });
        }

        return Task.CompletedTask;
    }
}
