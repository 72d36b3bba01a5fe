using System.CommandLine;
using Vigil.Cli;
using Vigil.Cli.Bench;

// vigil: analyse a media file or live URL for defects a viewer would notice.
var root = new RootCommand("Vigil — live audio/video quality monitor")
{
    AnalyzeCommand.Create(),
    DemoCommand.Create(),
    DetectorsCommand.Create(),
    BenchCommand.Create(),
    ServeCommand.Create(),
    CorpusCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
