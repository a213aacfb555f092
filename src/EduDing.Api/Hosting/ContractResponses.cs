using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EduDing.Api.Hosting;

/// <summary>
/// What every operation of the contract says besides its success: the bearer scheme it needs (all but the anonymous
/// ones) and the problem details it may answer with (docs/errors.md), with their one schema.
/// </summary>
internal static class ContractResponses
{
    private const string Scheme = "bearer";
    private const string ProblemSchema = "ProblemDetails";

    public static Task AddComponentsAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.AddComponent<IOpenApiSecurityScheme>(Scheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The access token from POST /api/auth/dingtalk or /api/auth/refresh.",
        });
        document.AddComponent<IOpenApiSchema>(ProblemSchema, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "An error (RFC 9457), as docs/errors.md describes it.",
            Required = new HashSet<string> { "status", "title", "code", "traceId" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Chinese, fit to show (请求内容有误, 没有权限, …)." },
                ["titleEn"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = "The English title." },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
                ["detail"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String | JsonSchemaType.Null,
                    Description = "Chinese, fit to show: what went wrong (报名时间已截止, …), or the status's general sentence.",
                },
                ["detailEn"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = "The English detail, as the logs have it." },
                ["code"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String, Description = "Stable: {area}.{kind}, with the field for a 400 or the reason for a 409 or 422, e.g. after_school.invalid.pickups.phone_number, care.conflict.already_applied.",
                },
                ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace id, as in the service's logs." },
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object | JsonSchemaType.Null,
                    Description = "For 400 and 415: each field (JSON name or path, or parameter) with its reasons, in Chinese, fit to show next to the field.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
                ["errorsEn"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object | JsonSchemaType.Null,
                    Description = "The same fields with the English reasons, as the logs have them.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
            },
        });
        return Task.CompletedTask;
    }

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var description = context.Description;
        var audience = description.ActionDescriptor.EndpointMetadata.OfType<AudienceMetadata>().FirstOrDefault()?.Audience;
        var statuses = new List<(int Status, string Why)>();
        if (audience is not Audience.Anonymous)
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [] });
            statuses.Add((401, "Not signed in, or the token expired."));
            statuses.Add((403, "Signed in without the role or scope this needs."));
        }
        else
        {
            // Said explicitly, so that a generator or linter does not read a missing list as "whatever the document requires".
            operation.Security = [];
        }

        if (description.ParameterDescriptions.Count > 0)
        {
            statuses.Add((400, "A field or parameter is invalid; errors names each."));
        }

        if (description.RelativePath?.Contains('{') == true)
        {
            statuses.Add((404, "Nothing the caller may see has this id."));
        }

        if (description.HttpMethod is "POST" or "PUT" or "PATCH" or "DELETE")
        {
            statuses.Add((409, "The request clashes with what is stored (a duplicate, a state that changed)."));
            statuses.Add((422, "Well-formed, but a rule refuses it (a closed window, a full class)."));
        }

        operation.Responses ??= new OpenApiResponses();
        foreach (var (status, why) in statuses)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!operation.Responses.ContainsKey(key))
            {
                operation.Responses[key] = new OpenApiResponse
                {
                    Description = why,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, context.Document) },
                    },
                };
            }
        }

        return Task.CompletedTask;
    }
}
