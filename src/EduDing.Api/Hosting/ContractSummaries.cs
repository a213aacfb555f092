using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EduDing.Api.Hosting;

/// <summary>
/// Every operation of the contract gets a summary: the first sentence of its handler's documentation comment (the whole
/// comment becomes the description), or, for a handler without one, words made from its stable name
/// (<c>CarePrograms_DrawLottery</c> → "Draw lottery (care programs)").
/// </summary>
internal static partial class ContractSummaries
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> HandlerDocs = new(ReadHandlerDocs);

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (string.IsNullOrEmpty(operation.Summary) && metadata.OfType<MethodInfo>().FirstOrDefault() is { } handler &&
            HandlerDocs.Value.TryGetValue(DocPrefix(handler), out var doc))
        {
            operation.Summary = FirstSentence(doc);
            operation.Description ??= doc;
        }

        if (string.IsNullOrEmpty(operation.Summary) && operation.OperationId is { Length: > 0 } name)
        {
            operation.Summary = FromName(name);
        }

        return Task.CompletedTask;
    }

    /// <summary>"CarePrograms_DrawLottery" → "Draw lottery (care programs)".</summary>
    public static string FromName(string operationId)
    {
        var (area, action) = operationId.IndexOf('_') is var i and > 0 ? (operationId[..i], operationId[(i + 1)..]) : ("", operationId);
        var words = Words(action);
        var sentence = words.Length == 0 ? operationId : char.ToUpperInvariant(words[0]) + words[1..];
        return area.Length == 0 ? sentence : $"{sentence} ({Words(area)})";
    }

    private static string Words(string pascal) => WordBoundary().Replace(pascal, " $1").Trim().ToLowerInvariant();

    private static string FirstSentence(string doc)
    {
        var end = SentenceEnd().Match(doc);
        return (end.Success ? doc[..end.Index] : doc).Trim();
    }

    /// <summary>The documentation id of a method up to its parameters: "M:Namespace.Type.Method(".</summary>
    private static string DocPrefix(MethodInfo method) =>
        $"M:{method.DeclaringType!.FullName!.Replace('+', '.')}.{method.Name}(";

    private static Dictionary<string, string> ReadHandlerDocs()
    {
        var path = Path.ChangeExtension(typeof(ContractSummaries).Assembly.Location, ".xml");
        var docs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return docs;
        }

        foreach (var member in XDocument.Load(path).Descendants("member"))
        {
            var name = (string?)member.Attribute("name");
            var summary = member.Element("summary");
            if (name is null || !name.StartsWith("M:", StringComparison.Ordinal) || summary is null)
            {
                continue;
            }

            var text = Whitespace().Replace(string.Concat(summary.Nodes().Select(n => n switch
            {
                XElement { Name.LocalName: "see" or "paramref" or "typeparamref" } e =>
                    ((string?)e.Attribute("cref") ?? (string?)e.Attribute("name") ?? (string?)e.Attribute("langword") ?? "").Split('.', ':')[^1],
                XElement e => e.Value,
                _ => n.ToString(),
            })), " ").Trim();
            var prefix = name[..(name.IndexOf('(') is var p and > 0 ? p + 1 : name.Length)];
            // Overloads share a prefix; the handler is the one documented first.
            docs.TryAdd(prefix.EndsWith('(') ? prefix : prefix + "(", System.Net.WebUtility.HtmlDecode(text));
        }

        return docs;
    }

    [GeneratedRegex("(?<!^)([A-Z])")]
    private static partial Regex WordBoundary();

    [GeneratedRegex(@"[.。](\s|$)")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
