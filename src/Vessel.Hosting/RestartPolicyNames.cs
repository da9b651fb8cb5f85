namespace Vessel.Hosting;

/// <summary>The user-facing spelling of <see cref="RestartPolicy"/> (<c>no</c>, <c>on-failure</c>, <c>always</c>).</summary>
public static class RestartPolicyNames
{
    public static string ToName(this RestartPolicy policy) => policy switch
    {
        RestartPolicy.OnFailure => "on-failure",
        RestartPolicy.Always => "always",
        _ => "no",
    };

    public static bool TryParse(string? text, out RestartPolicy policy)
    {
        switch (text)
        {
            case null or "" or "no":
                policy = RestartPolicy.No;
                return true;
            case "on-failure":
                policy = RestartPolicy.OnFailure;
                return true;
            case "always":
                policy = RestartPolicy.Always;
                return true;
            default:
                policy = RestartPolicy.No;
                return false;
        }
    }
}
