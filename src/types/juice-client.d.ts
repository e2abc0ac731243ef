// juice's browser entry (no web-resource-inliner, no fs): what runs on Workers. Same API as juice.
declare module "juice/client" {
  import juice from "juice";
  export default juice;
}
