using EduDing.Api.Features.Approvals;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Approvals;

/// <summary>The contract's list of approval kinds is the registered kinds, each labelled with its display name.</summary>
public sealed class ApprovalKindNamesTests
{
    [Fact]
    public async Task TheContractsKinds_AreTheRegisteredKinds_WithTheirDisplayNames()
    {
        await using var factory = new ApiFactory();
        var registered = factory.Services.GetRequiredService<ApprovalKinds>().All.ToDictionary(k => k.Kind, k => k.DisplayName);

        var listed = CodeValues.Of(typeof(ApprovalKindNames)).ToDictionary(v => v.Value, v => v.Label);

        Assert.Equal(registered.OrderBy(k => k.Key), listed.OrderBy(k => k.Key));
    }
}
