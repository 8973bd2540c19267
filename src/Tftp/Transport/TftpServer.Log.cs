using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Transport;

public sealed partial class TftpServer
{
    /// <summary>Log messages of the listener and of its transfers. File names are client text: pass them through <see cref="LogText.Safe"/>.</summary>
    internal static partial class Log
    {
        [LoggerMessage(EventId = EventIds.Listening, Level = LogLevel.Information, Message = "TFTP listening on {Endpoint}, serving {Root} (read-only, at most {MaxTransfers} transfers)")]
        public static partial void Listening(ILogger logger, IPEndPoint endpoint, string root, int maxTransfers);

        [LoggerMessage(EventId = EventIds.ListenerStopped, Level = LogLevel.Information, Message = "TFTP listener on {Endpoint} stopped")]
        public static partial void ListenerStopped(ILogger logger, IPEndPoint endpoint);

        [LoggerMessage(EventId = EventIds.ListenerSocketError, Level = LogLevel.Debug, Message = "TFTP listener: transient socket error {SocketError}, carrying on")]
        public static partial void ListenerSocketError(ILogger logger, SocketError socketError);

        [LoggerMessage(EventId = EventIds.ListenerBackOff, Level = LogLevel.Warning, Message = "TFTP listener: socket error {SocketError}, pausing {DelayMs} ms")]
        public static partial void ListenerBackOff(ILogger logger, SocketError socketError, int delayMs);

        [LoggerMessage(EventId = EventIds.ListenerFatal, Level = LogLevel.Critical, Message = "TFTP listener: socket error {SocketError}, the listener stops")]
        public static partial void ListenerFatal(ILogger logger, SocketError socketError, Exception exception);

        [LoggerMessage(EventId = EventIds.JunkDatagram, Level = LogLevel.Debug, Message = "TFTP {Client}: dropped a {Length}-byte datagram: {Reason}")]
        public static partial void JunkDatagram(ILogger logger, IPEndPoint client, int length, string reason);

        [LoggerMessage(EventId = EventIds.MalformedRequest, Level = LogLevel.Information, Message = "TFTP {Client}: malformed request refused ({ParseError}: {Reason})")]
        public static partial void MalformedRequest(ILogger logger, IPEndPoint client, TftpParseError parseError, string reason);

        [LoggerMessage(EventId = EventIds.WriteRequestRefused, Level = LogLevel.Information, Message = "TFTP {Client}: write request for {File} refused, the server is read-only")]
        public static partial void WriteRequestRefused(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.ModeRefused, Level = LogLevel.Information, Message = "TFTP {Client}: read request for {File} in {Mode} mode refused, only octet is served")]
        public static partial void ModeRefused(ILogger logger, IPEndPoint client, string file, TftpTransferMode mode);

        [LoggerMessage(EventId = EventIds.ServerBusy, Level = LogLevel.Warning, Message = "TFTP {Client}: read request for {File} dropped, {Active} transfers already running (the client will retransmit)")]
        public static partial void ServerBusy(ILogger logger, IPEndPoint client, string file, int active);

        [LoggerMessage(EventId = EventIds.DuplicateRequest, Level = LogLevel.Debug, Message = "TFTP {Client}: repeated read request for {File} ignored, its transfer is starting")]
        public static partial void DuplicateRequest(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.TransferSuperseded, Level = LogLevel.Information, Message = "TFTP {Client}: new read request for {File}, abandoning its transfer of {PreviousFile}")]
        public static partial void TransferSuperseded(ILogger logger, IPEndPoint client, string file, string previousFile);

        [LoggerMessage(EventId = EventIds.DatagramHandlingFailed, Level = LogLevel.Error, Message = "TFTP {Client}: handling a datagram failed; dropped")]
        public static partial void DatagramHandlingFailed(ILogger logger, IPEndPoint client, Exception exception);

        [LoggerMessage(EventId = EventIds.TransferStarted, Level = LogLevel.Debug, Message = "TFTP {Client}: sending {File}, {Length} bytes, blksize {BlockSize}, windowsize {WindowSize}, options acknowledged: {OptionCount}")]
        public static partial void TransferStarted(ILogger logger, IPEndPoint client, string file, long length, int blockSize, int windowSize, int optionCount);

        [LoggerMessage(EventId = EventIds.TransferCompleted, Level = LogLevel.Information, Message = "TFTP {Client}: sent {File}, {Length} bytes in {ElapsedMs} ms (blksize {BlockSize}, windowsize {WindowSize}, {Retransmissions} retransmissions)")]
        public static partial void TransferCompleted(ILogger logger, IPEndPoint client, string file, long length, long elapsedMs, int blockSize, int windowSize, int retransmissions);

        [LoggerMessage(EventId = EventIds.FileNotFound, Level = LogLevel.Information, Message = "TFTP {Client}: {File} not found")]
        public static partial void FileNotFound(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.AccessDenied, Level = LogLevel.Warning, Message = "TFTP {Client}: access to {File} denied (outside the root or not allowed)")]
        public static partial void AccessDenied(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.FileTooLarge, Level = LogLevel.Warning, Message = "TFTP {Client}: {File} is {Length} bytes, over the {MaxFileSize}-byte limit; refused")]
        public static partial void FileTooLarge(ILogger logger, IPEndPoint client, string file, long length, long maxFileSize);

        [LoggerMessage(EventId = EventIds.TransferTimedOut, Level = LogLevel.Warning, Message = "TFTP {Client}: {File} abandoned at block {Block} after {Retransmissions} retransmissions without an ACK")]
        public static partial void TransferTimedOut(ILogger logger, IPEndPoint client, string file, long block, int retransmissions);

        [LoggerMessage(EventId = EventIds.FinalAckLost, Level = LogLevel.Information, Message = "TFTP {Client}: sent {File}, {Length} bytes; the final ACK never came (the client had every block)")]
        public static partial void FinalAckLost(ILogger logger, IPEndPoint client, string file, long length);

        [LoggerMessage(EventId = EventIds.ClientAborted, Level = LogLevel.Information, Message = "TFTP {Client}: client ended the transfer of {File} with error {ErrorCode}")]
        public static partial void ClientAborted(ILogger logger, IPEndPoint client, string file, TftpErrorCode errorCode);

        [LoggerMessage(EventId = EventIds.Retransmitting, Level = LogLevel.Debug, Message = "TFTP {Client}: no ACK for {File} block {Block}, retransmission {Attempt}, next wait {TimeoutMs} ms")]
        public static partial void Retransmitting(ILogger logger, IPEndPoint client, string file, long block, int attempt, long timeoutMs);

        [LoggerMessage(EventId = EventIds.TransferFailed, Level = LogLevel.Error, Message = "TFTP {Client}: transfer of {File} failed")]
        public static partial void TransferFailed(ILogger logger, IPEndPoint client, string file, Exception exception);

        [LoggerMessage(EventId = EventIds.TransferSocketFailed, Level = LogLevel.Warning, Message = "TFTP {Client}: cannot open a transfer socket for {File} ({SocketError}); request dropped")]
        public static partial void TransferSocketFailed(ILogger logger, IPEndPoint client, string file, SocketError socketError);

        [LoggerMessage(EventId = EventIds.ClientUnreachable, Level = LogLevel.Information, Message = "TFTP {Client}: client unreachable (ICMP error) during {File}; transfer ended")]
        public static partial void ClientUnreachable(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.FileChanged, Level = LogLevel.Warning, Message = "TFTP {Client}: {File} got shorter during the transfer; transfer ended")]
        public static partial void FileChanged(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.TransferStoppedByShutdown, Level = LogLevel.Information, Message = "TFTP {Client}: transfer of {File} stopped, the server is shutting down")]
        public static partial void TransferStoppedByShutdown(ILogger logger, IPEndPoint client, string file);

        [LoggerMessage(EventId = EventIds.IgnoredTransferDatagram, Level = LogLevel.Debug, Message = "TFTP {Client}: ignored a {Length}-byte datagram during {File}: {Reason}")]
        public static partial void IgnoredTransferDatagram(ILogger logger, IPEndPoint client, string file, int length, string reason);

        [LoggerMessage(EventId = EventIds.FileSourceFailed, Level = LogLevel.Error, Message = "TFTP {Client}: opening {File} failed")]
        public static partial void FileSourceFailed(ILogger logger, IPEndPoint client, string file, Exception exception);
    }
}
