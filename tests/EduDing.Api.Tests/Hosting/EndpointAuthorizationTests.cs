using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Hosting;

public sealed class EndpointAuthorizationTests
{
    /// <summary>
    /// Every endpoint says who may call it: a policy, or an explicit AllowAnonymous. The fallback policy would
    /// demand a signed-in caller anyway, but an endpoint without a decision is one nobody thought about.
    /// </summary>
    [Fact]
    public async Task EveryEndpoint_DeclaresAnAuthorizationDecision()
    {
        await using var factory = new ApiFactory();
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .ToList();

        var undecided = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null
                        && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any()
                        && !e.Metadata.GetOrderedMetadata<AuthorizationPolicy>().Any())
            .Select(e => $"{string.Join(",", e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])} {e.RoutePattern.RawText}")
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.Empty(undecided);
    }
}
