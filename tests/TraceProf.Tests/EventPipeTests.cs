namespace TraceProf.Tests;

/// <summary>Tests that start real EventPipe sessions in this process run one at a time.</summary>
[CollectionDefinition("EventPipe", DisableParallelization = true)]
public sealed class EventPipeTests;
