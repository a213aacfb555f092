using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// The one way other features notify named people (vision results, approval requests and outcomes, reminders):
/// through the notice outbox, recorded, batched, paced and verified like any notice, and visible in the recipients'
/// notice list.
/// </summary>
internal sealed class SystemNotices(NoticeOutbox outbox, CorpDirectory corps, IOptions<NoticeOptions> options, TimeProvider time)
{
    public async Task<long> SendAsync(SystemNotice notice, CancellationToken ct)
    {
        if (notice.Recipients.Count == 0)
        {
            throw new ArgumentException("A system notice needs at least one recipient.", nameof(notice));
        }

        var settings = options.Value;
        var recipients = notice.Recipients.DistinctBy(r => (r.CorpId, r.UserId)).Where(r => corps.Find(r.CorpId) is not null).ToList();
        return await outbox.CreateSystemAsync(notice, recipients,
            (n, corpId) => NoticeMessages.For(n, settings, NoticeMessages.MiniAppOf(corpId, corps, settings)), settings.BatchSize,
            time.UtcNowForDatabase(), ct);
    }
}
