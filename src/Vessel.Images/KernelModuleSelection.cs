namespace Vessel.Images;

/// <summary>The result of resolving a list of wanted modules against a kernel's module tree.</summary>
/// <param name="Modules">Modules to load, in dependency order (each after everything it depends on).</param>
/// <param name="BuiltIn">Wanted names (or soft dependencies) that the kernel has built in, so need no file.</param>
/// <param name="Missing">Wanted names found neither as a module file nor built in.</param>
public sealed record KernelModuleSelection(IReadOnlyList<KernelModule> Modules, IReadOnlyList<string> BuiltIn, IReadOnlyList<string> Missing)
{
    /// <summary>
    /// modules.dep in depmod's format (see modules.dep(5)): "path: dep…" per module with every dependency, the one
    /// to load first listed last, as modprobe expects.
    /// </summary>
    public string ToModulesDep()
    {
        var byName = Modules.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var lines = new List<string>();
        foreach (KernelModule module in Modules)
        {
            var closure = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            void Visit(string name)
            {
                if (!byName.TryGetValue(name, out KernelModule? dep) || !seen.Add(name))
                {
                    return;
                }

                foreach (string d in dep.Info.Depends)
                {
                    Visit(d);
                }

                closure.Add(dep.RelativePath);
            }

            foreach (string d in module.Info.Depends)
            {
                Visit(d);
            }

            closure.Reverse();
            lines.Add(closure.Count == 0 ? $"{module.RelativePath}:" : $"{module.RelativePath}: {string.Join(' ', closure)}");
        }

        return string.Join('\n', lines) + (lines.Count > 0 ? "\n" : string.Empty);
    }
}
