namespace Vessel.Cli.Commands;

/// <summary>
/// Orders snapshots as a tree for display: each snapshot after its parent, children in their given (creation) order,
/// with their depth. A snapshot whose parent is not in the list counts as a root, so nothing is ever dropped.
/// </summary>
public static class SnapshotTree
{
    public static IReadOnlyList<(T Item, int Depth)> Order<T>(IReadOnlyList<T> items, Func<T, string> name, Func<T, string?> parent)
    {
        var names = items.Select(name).ToHashSet(StringComparer.Ordinal);
        var children = items.ToLookup(i => parent(i) is { } p && names.Contains(p) ? p : null, StringComparer.Ordinal);
        var ordered = new List<(T, int)>(items.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);

        // Iterative depth-first walk: a deep chain of snapshots cannot overflow the stack.
        var stack = new Stack<(T Item, int Depth)>();
        foreach (var root in children[null].Reverse())
        {
            stack.Push((root, 0));
        }

        while (stack.Count > 0)
        {
            var (item, depth) = stack.Pop();
            if (!seen.Add(name(item)))
            {
                continue;
            }

            ordered.Add((item, depth));
            foreach (var child in children[name(item)].Reverse())
            {
                stack.Push((child, depth + 1));
            }
        }

        // A parent cycle (which the store never writes) would leave items unreached; list them as roots.
        foreach (var item in items.Where(i => !seen.Contains(name(i))))
        {
            ordered.Add((item, 0));
        }

        return ordered;
    }
}
