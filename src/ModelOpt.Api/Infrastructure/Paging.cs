namespace ModelOpt.Api.Infrastructure;

/// <summary>The one paging rule of every list: 1-based <c>page</c>, <c>pageSize</c> 1-<see cref="MaxPageSize"/>.</summary>
public static class Paging
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 200;
    public const string PageDescription = "1-based page number.";
    public const string PageSizeDescription = "Items per page, 1-200.";

    /// <exception cref="RequestValidationException">The page or its size is out of range.</exception>
    public static void Check(int page, int pageSize)
    {
        if (page < 1)
        {
            throw new RequestValidationException("page", "page must be 1 or more.");
        }
        if (pageSize is < 1 or > MaxPageSize)
        {
            throw new RequestValidationException("pageSize", $"pageSize must be between 1 and {MaxPageSize}.");
        }
        // The offset (page - 1) * pageSize is an int in every query: a page past it is past the end of any list.
        if ((long)(page - 1) * pageSize > int.MaxValue)
        {
            throw new RequestValidationException("page", $"page must be at most {int.MaxValue / pageSize + 1} with pageSize {pageSize}.");
        }
    }

    /// <summary>One page of a list already in memory (built-in and uploaded datasets together).</summary>
    public static PagedResult<T> Of<T>(IReadOnlyList<T> all, int page, int pageSize)
    {
        Check(page, pageSize);
        return new PagedResult<T>(all.Skip((page - 1) * pageSize).Take(pageSize).ToList(), page, pageSize, all.Count);
    }
}
