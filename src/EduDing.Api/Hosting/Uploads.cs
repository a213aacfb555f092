namespace EduDing.Api.Hosting;

/// <summary>Files uploaded as a multipart form's <c>file</c> field.</summary>
internal static class Uploads
{
    /// <summary>
    /// The file's name and bytes: 400 naming the field when the form is unreadable, the file missing, empty or larger
    /// than <paramref name="maxBytes"/> (<paramref name="tooLarge"/> says so).
    /// </summary>
    public static async Task<(string FileName, byte[] Content)> ReadFileAsync(HttpRequest http, long maxBytes, string tooLarge, CancellationToken ct)
    {
        IFormFile? file;
        try
        {
            file = http.HasFormContentType ? (await http.ReadFormAsync(ct)).Files.GetFile("file") : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            // A multipart body that is empty or cut short.
            throw new RequestValidationException("file", $"the multipart form could not be read ({ex.Message})");
        }

        if (file is null || file.Length == 0)
        {
            throw new RequestValidationException("file", "a file is required (multipart/form-data, field 'file')");
        }

        if (file.Length > maxBytes)
        {
            throw new RequestValidationException("file", tooLarge);
        }

        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, ct);
        return (file.FileName, buffer.ToArray());
    }
}
