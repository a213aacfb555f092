namespace EduDing.Api.Hosting;

/// <summary>
/// Who may call an endpoint, declared on the endpoint itself (<see cref="AudienceExtensions.RequireAudience{TBuilder}"/>):
/// the authorization policy follows from it, handlers check the finer scope, and the authorization matrix test reads
/// these declarations to call every endpoint as every kind of caller (docs/access.md).
/// </summary>
internal enum Audience
{
    /// <summary>Anyone, signed in or not (health, sign-in, DingTalk's signed callback, dev-only docs).</summary>
    Anonymous,

    /// <summary>Any valid session token.</summary>
    SignedIn,

    /// <summary>A signed-in person of the synced organizations, for themselves or what their roles reach (an operator token is no person).</summary>
    Person,

    /// <summary>Operators of the deployment.</summary>
    SystemAdmin,

    /// <summary>A Prometheus scraper with the configured token, or an operator.</summary>
    MetricsScraper,

    /// <summary>One child's record: the child's guardian, a teacher of the child's class, the school's admin, or a grant.</summary>
    ChildOfCaller,

    /// <summary>Admins of a school or of the bureau.</summary>
    Admins,

    /// <summary>The admins of the school in the route.</summary>
    SchoolAdmin,

    /// <summary>Staff of the school in the route.</summary>
    SchoolStaff,

    /// <summary>One class's children: the class's teachers and the school's admins.</summary>
    ClassTeacherOrSchoolAdmin,

    /// <summary>One after-school group's daily records: the group's teacher (or the day's cover) and the school's admins.</summary>
    CareGroupKeeper,

    /// <summary>Staff of any school or of the bureau (not guardians).</summary>
    Staff,

    /// <summary>City-wide aggregates and decisions: the bureau.</summary>
    Bureau,

    /// <summary>One school's results for its admins, and the bureau (the parent survey).</summary>
    SchoolAdminOrBureau,

    /// <summary>One school's aggregates: that school's staff, and the bureau.</summary>
    SchoolStaffOrBureau,

    /// <summary>One child's own data as a parent sees it: that child's guardian only.</summary>
    GuardianOfChild,
}

/// <summary>The declared audience of an endpoint.</summary>
internal sealed record AudienceMetadata(Audience Audience);

internal static class AudienceExtensions
{
    /// <summary>Declares who may call the endpoint (or group) and applies the matching authorization policy.</summary>
    public static TBuilder RequireAudience<TBuilder>(this TBuilder builder, Audience audience) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new AudienceMetadata(audience));
        return audience switch
        {
            Audience.Anonymous => builder.AllowAnonymous(),
            Audience.SystemAdmin => builder.RequireAuthorization(Policies.SystemAdmin),
            Audience.MetricsScraper => builder.RequireAuthorization(Policies.MetricsScrape),
            _ => builder.RequireAuthorization(),
        };
    }
}
