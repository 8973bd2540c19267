// nekko-agent: facts, health checks and (soon) heartbeats on every node. See README.md.
using NekkoMetal.NodeAgent.Agent;

return await AgentCommand.RunAsync(args, Console.Out, Console.Error);
