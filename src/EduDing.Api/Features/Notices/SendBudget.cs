namespace EduDing.Api.Features.Notices;

/// <summary>
/// The send budget of one corp's app (docs/notices.md): DingTalk accepts at most a cap of recipients per window
/// (5,000 a minute per app). Pure arithmetic over the ledger of what was sent, so that it is tested without a database.
/// </summary>
internal static class SendBudget
{
    /// <summary>
    /// When the next batch of <paramref name="size"/> may go: never more than the cap within any window, and at most
    /// one batch per (size × window / cap), so a long fan-out is an even stream rather than a burst and a stall.
    /// </summary>
    public static DateTime? WaitFor(IReadOnlyList<(DateTime SentAt, int Recipients)> sent, int size, int cap, TimeSpan window,
        DateTime now)
    {
        if (sent.Count > 0)
        {
            var last = sent[^1];
            var spacing = TimeSpan.FromTicks(window.Ticks * Math.Min(last.Recipients, cap) / cap);
            if (last.SentAt + spacing > now)
            {
                return last.SentAt + spacing;
            }
        }

        var total = sent.Sum(s => s.Recipients);
        foreach (var (sentAt, recipients) in sent)
        {
            if (total + size <= cap)
            {
                break;
            }

            total -= recipients;
            if (total + size <= cap)
            {
                return sentAt + window;
            }
        }

        return total + size <= cap ? null : now + window;
    }

    /// <summary>
    /// The time a send is entered in the ledger: its slot in the even schedule when it is claimed a little after that
    /// slot (a timer firing late, a transaction's round trip), so lateness does not add up batch after batch and the
    /// stream keeps its rate. The entry is at most <see cref="LatenessAbsorbed"/> early, well within the second the
    /// 61-second window has to spare over DingTalk's minute.
    /// </summary>
    public static readonly TimeSpan LatenessAbsorbed = TimeSpan.FromMilliseconds(250);

    public static DateTime LedgerTime(IReadOnlyList<(DateTime SentAt, int Recipients)> sent, int cap, TimeSpan window, DateTime now)
    {
        if (sent.Count == 0)
        {
            return now;
        }

        var last = sent[^1];
        var spacing = TimeSpan.FromTicks(window.Ticks * Math.Min(last.Recipients, cap) / cap);
        var slot = last.SentAt + spacing;
        return slot <= now && now - slot < LatenessAbsorbed ? slot : now;
    }
}
