package dev.latentpipeline.api.problem;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Locale;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every failure leaves as a problem document; an unexpected one is logged and never shows its stack trace. */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response api(ApiException e) {
        Response.ResponseBuilder response = response(e.status(), e.code(), e.getMessage(), e.errors());
        if (e.retryAfter() != null) {
            response.header("Retry-After", Math.max(1, e.retryAfter().toSeconds()));
        }
        if (e.status() == 401) {
            response.header("WWW-Authenticate", "Bearer");
        }
        return response.build();
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        String reason = Response.Status.fromStatusCode(status) == null ? "error"
                : Response.Status.fromStatusCode(status).getReasonPhrase();
        return response(status, reason.toLowerCase(Locale.ROOT).replace(' ', '_'), reason, List.of()).build();
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e) {
        LOG.error("Unexpected error answering an HTTP request", e);
        return response(500, "internal_error", "the server failed to answer; the error is in its log", List.of())
                .build();
    }

    public static Response.ResponseBuilder response(int status, String code, String detail,
            List<Problem.FieldProblem> errors) {
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known == null ? "Error" : known.getReasonPhrase();
        Problem problem = new Problem("https://latentpipeline.dev/problems/" + code, title, status, detail, null,
                code, errors);
        return Response.status(status).type(Problem.MEDIA_TYPE).entity(problem);
    }
}
