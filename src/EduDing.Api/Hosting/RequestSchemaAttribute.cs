namespace EduDing.Api.Hosting;

/// <summary>
/// On a request body type: the JSON fields the contract marks required, and only these. Request records take every
/// field as nullable so that a missing one becomes a 400 naming it (not a binding failure), which would otherwise make
/// the generated contract list every field as required.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class RequestSchemaAttribute(params string[] required) : Attribute
{
    public IReadOnlyList<string> Required { get; } = required;
}
