using System.Net;
using System.Net.Sockets;

namespace Actors.Storage;

/// <summary>Ports on 127.0.0.1 for silos, Orleans endpoints and test servers.</summary>
public static class LoopbackPorts
{
    /// <summary>A 127.0.0.1 port nothing listens on right now.</summary>
    public static int Free()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
