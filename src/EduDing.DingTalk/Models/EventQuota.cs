namespace EduDing.DingTalk.Models;

/// <summary>Which events DingTalk meters as pushes (contract §12): 通讯录 events are exempt, 家校 (edu_*) and the rest count.</summary>
public static class EventQuota
{
    public static bool CountsAsPush(string eventType) =>
        !(eventType.StartsWith("user_", StringComparison.Ordinal) || eventType.StartsWith("org_dept_", StringComparison.Ordinal) ||
          eventType.StartsWith("label_", StringComparison.Ordinal) || eventType.StartsWith("org_admin_", StringComparison.Ordinal) ||
          eventType == "check_url");
}
