using System.Text.Json.Serialization;
using EduDing.Api.Data;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace EduDing.Api.Hosting;

internal static class HostingExtensions
{
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>Logging, problem details, JSON, OpenAPI, authentication and health: what every endpoint relies on.</summary>
    public static WebApplicationBuilder AddEduDingDefaults(this WebApplicationBuilder builder)
    {
        // Secrets of ~100 corps as files, one per key (a mounted Kubernetes/Docker secret, or a root-only directory):
        // DingTalk__Corps__12__AppSecret holds that corp's AppSecret. Read last, so a file overrides every other source.
        // A missing directory stops the start with a message naming Secrets:Directory (SecretsOptions).
        if (builder.Configuration["Secrets:Directory"] is { Length: > 0 } secrets && Directory.Exists(secrets))
        {
            builder.Configuration.AddKeyPerFile(Path.GetFullPath(secrets), optional: false);
        }

        builder.Services.AddValidatedOptions<SecretsOptions>();

        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        // JSON logs keep Chinese names and messages readable (not \uXXXX); a log line is never embedded in HTML.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>(o =>
            o.JsonWriterOptions = o.JsonWriterOptions with { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        builder.Services.Configure<HostOptions>(builder.Configuration.GetSection("HostOptions"));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        // The documented address where none is configured; any configured one wins (ASPNETCORE_URLS, URLS, --urls,
        // ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints). launchSettings.json sets none, so the environment is obeyed under
        // `dotnet run` too (docs/operations.md).
        var configuration = builder.Configuration;
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"]) &&
            string.IsNullOrEmpty(configuration["https_ports"]) && !configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemCodes.Customize);
        services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        // Malformed input throws in every environment, so that the exception handler turns it into problem details
        // naming the field, rather than a bare 400 in Production only.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.Converters.Add(new ShanghaiDateTimeConverter());
        });
        services.AddValidation();
        services.AddOpenApi(o => o.AddSchemaTransformer((schema, context, _) =>
        {
            // Request bodies list as required only what [RequestSchema] says is.
            if (context.JsonTypeInfo.Type.GetCustomAttributes(typeof(RequestSchemaAttribute), false) is [RequestSchemaAttribute request])
            {
                schema.Required = new HashSet<string>(request.Required);
            }

            ContractTypes.Normalize(schema, context.JsonTypeInfo.Type);
            CodeValues.Describe(schema, context);
            // A property computed from the others (no setter) is sent, never read: readOnly, so that a request's schema
            // does not offer it.
            if (context.JsonPropertyInfo is { Set: null, Get: not null } && context.JsonPropertyInfo.AssociatedParameter is null)
            {
                schema.ReadOnly = true;
            }
            return Task.CompletedTask;
        }).AddDocumentTransformer(ContractResponses.AddComponentsAsync).AddOperationTransformer(ContractResponses.DescribeAsync)
        .AddOperationTransformer(ContractSummaries.DescribeAsync)
        .AddOperationTransformer(ContractFiles.DescribeAsync)
        .AddOperationTransformer(ContractExamples.DescribeAsync)
        .AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "EduDing API",
                Version = "v1",
                Description = "The API the 海宁教育钉 mini-app is built against. See miniapp-contract/README.md.",
            };
            // The contract must not depend on the host that generated it: paths are relative to wherever it is served.
            document.Servers = [new OpenApiServer { Url = "/", Description = "The EduDing service the mini-app is configured with." }];
            return Task.CompletedTask;
        }));
        services.AddEduDingAuthentication();
        services.AddHealthChecks().AddHostHealthChecks();

        // One line per request (method, path, status, duration; never the query string or a body), without the health
        // probes an orchestrator sends every few seconds. ASP.NET Core's own request lines are turned down in appsettings.
        services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.ResponseStatusCode |
                              HttpLoggingFields.Duration;
            o.CombineLogs = true;
        });
        services.AddHttpLoggingInterceptor<ProbesUnlogged>();
        return builder;
    }

    public static WebApplication UseEduDingDefaults(this WebApplication app)
    {
        app.UseHttpLogging();
        app.Use(SecurityHeaders);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthEndpoints();
        if (app.Environment.IsDevelopment())
        {
            app.MapOpenApi().RequireAudience(Audience.Anonymous);
            app.MapScalarApiReference().RequireAudience(Audience.Anonymous);
        }

        return app;
    }

    /// <summary>
    /// On every response: no content sniffing, no referrer (links carry ids), and for the API no caching anywhere,
    /// since its answers carry children's data, tokens or both (a shared proxy or the WebView's cache must keep none).
    /// </summary>
    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.Remove("Server");
            if (context.Request.Path.StartsWithSegments("/api"))
            {
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
            }

            return Task.CompletedTask;
        });
        return next();
    }

    /// <summary>
    /// Starts the host and waits for shutdown. A configuration error stops the process with exit code 2 and a message
    /// naming each offending key; any other failure to start exits with 1.
    /// </summary>
    public static async Task<int> RunEduDingAsync(this WebApplication app)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EduDing.Startup");
        try
        {
            await app.StartAsync();
        }
        catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException
                                       or InvalidOperationException { Source: "Microsoft.Extensions.Configuration.Binder" })
        {
            var failures = ex is Microsoft.Extensions.Options.OptionsValidationException ove
                ? ove.Failures
                : [ex.Message];
            foreach (var failure in failures)
            {
                log.LogCritical("Configuration error: {Failure}", failure);
                await Console.Error.WriteLineAsync($"EduDing cannot start. Configuration error: {failure}");
            }

            return 2;
        }
        catch (Exception ex)
        {
            log.LogCritical(ex, "EduDing failed to start");
            await Console.Error.WriteLineAsync($"EduDing failed to start: {ex.Message}");
            return 1;
        }

        log.LogInformation("EduDing is listening on {Addresses} (database: {Provider})",
            string.Join(", ", app.Urls), app.Services.GetRequiredService<SqlDialect>().Name);
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>Health probes (/healthz, /readyz) and metric scrapes are not logged: they say nothing, every few seconds, on every instance.</summary>
    private sealed class ProbesUnlogged : IHttpLoggingInterceptor
    {
        public ValueTask OnRequestAsync(HttpLoggingInterceptorContext logContext)
        {
            var context = logContext.HttpContext;
            if (TelemetrySetup.IsQuietPath(context.Request.Path,
                    context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value))
            {
                logContext.LoggingFields = HttpLoggingFields.None;
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask OnResponseAsync(HttpLoggingInterceptorContext logContext) => ValueTask.CompletedTask;
    }
}
