using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>
/// Names frames (<see cref="FrameNames"/>), interns them in a builder and lays out stacks by
/// <see cref="FrameRules"/>: the one place both parsers (streaming and TraceLog) and the recorder's cut make frames.
/// </summary>
internal sealed class FrameInterner(ProfileBuilder builder, bool raw)
{
    private readonly List<int> _stack = new(64);
    private readonly Dictionary<(string SystemName, string Module), Frame> _byName = [];
    private Frame _last;

    /// <summary>Gets the stack laid out since <see cref="Clear"/>, leaf first.</summary>
    public List<int> Stack => _stack;

    /// <summary>Names and interns one resolved method (or placeholder) once; callers cache the result per address.</summary>
    /// <param name="systemName">The runtime's name, with its parameter list.</param>
    /// <param name="module">The module's name.</param>
    /// <returns>How the frame enters stacks.</returns>
    public Frame Intern(string systemName, string module)
    {
        // A method is met at many return addresses; it is named once.
        ref var known = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_byName, (systemName, module), out var exists);
        if (!exists)
        {
            known = Name(systemName, module);
        }

        return known;
    }

    /// <summary>Like <see cref="Intern(string, string)"/>, for a frame at a known source line: one frame per line.</summary>
    /// <param name="systemName">The runtime's name, with its parameter list.</param>
    /// <param name="module">The module's name.</param>
    /// <param name="file">The source file.</param>
    /// <param name="line">The 1-based line.</param>
    /// <returns>How the frame enters stacks.</returns>
    public Frame Intern(string systemName, string module, string file, int line)
    {
        var named = Intern(systemName, module);
        if (named.Id < 0)
        {
            return named;
        }

        var id = builder.InternFrame(new ProfileFrame(named.Display, module) { SystemName = systemName, SourceFile = file, SourceLine = line });
        return named with { Id = id };
    }

    private Frame Name(string systemName, string module)
    {
        var display = FrameNames.Display(systemName);
        var folded = !raw && (FrameRules.IsSafePointHelper(systemName) || FrameRules.IsAsyncPlumbing(display));
        var id = folded ? -1 : builder.InternFrame(new ProfileFrame(display, module) { SystemName = systemName });
        return new Frame(id, display, FrameRules.IsEventRaiser(systemName), FrameNames.IsStateMachineMoveNext(systemName));
    }

    /// <summary>Starts a new stack.</summary>
    public void Clear()
    {
        _stack.Clear();
        _last = default;
    }

    /// <summary>Adds the next frame toward the root, unless a rule folds it.</summary>
    /// <param name="frame">The frame from <see cref="Intern(string, string)"/>.</param>
    public void Push(Frame frame)
    {
        if (frame.Id < 0)
        {
            return;
        }

        if (!raw)
        {
            if (_stack.Count == 0 && frame.EventRaiser)
            {
                return;
            }

            // The kick-off method (QuoteAsync) only starts its state machine (<QuoteAsync>d__6.MoveNext), which is
            // already named QuoteAsync: one frame, not two.
            if (_last.StateMachine && !frame.StateMachine && string.Equals(_last.Display, frame.Display, StringComparison.Ordinal))
            {
                return;
            }
        }

        _stack.Add(frame.Id);
        _last = frame;
    }

    /// <summary>A frame as stacks use it.</summary>
    /// <param name="Id">Its id in the builder; -1 when it is folded.</param>
    /// <param name="Display">Its display name.</param>
    /// <param name="EventRaiser">Whether it raises runtime events (never a leaf).</param>
    /// <param name="StateMachine">Whether it is a state machine's <c>MoveNext</c>.</param>
    internal readonly record struct Frame(int Id, string Display, bool EventRaiser, bool StateMachine);
}
