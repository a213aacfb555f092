namespace EduDing.Api.Hosting;

/// <summary>A page of a list, as every list endpoint answers (miniapp-contract/README.md, "Paging").</summary>
internal sealed record Paged<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>
/// page 1–1,000,000, pageSize 1–200 (default 50); anything else is a 400 naming the field. The offset is computed in
/// 64 bits, so a page past the end is an empty page, never page 1 again.
/// </summary>
internal readonly record struct PageRequest(int Page, int PageSize)
{
    public const int MaxPage = 1_000_000;
    public const int MaxPageSize = 200;

    public long Skip => (Page - 1L) * PageSize;

    public static PageRequest From(int? page, int? pageSize)
    {
        var errors = new Dictionary<string, string[]>();
        if (page is < 1 or > MaxPage)
        {
            errors["page"] = [$"must be 1 to {MaxPage:N0}"];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"must be 1 to {MaxPageSize}"];
        }

        return errors.Count > 0 ? throw new RequestValidationException(errors) : new PageRequest(page ?? 1, pageSize ?? 50);
    }
}
