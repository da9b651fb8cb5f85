namespace Vessel.Images.Tests;

/// <summary>A fact skipped (at discovery) when a host program is not installed.</summary>
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(params string[] tools)
    {
        string[] missing = tools.Where(t => !HostTools.Exists(t)).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"not installed: {string.Join(", ", missing)}";
        }
    }
}
